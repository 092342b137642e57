import { spawnSync } from "node:child_process";
import { constants } from "node:fs";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { expect } from "vitest";
import { adapterPath } from "../../src/adapters/file/paths.js";

export interface StalledFile {
  /** Takes the pipe off the user's path (a thread blocked on it stays blocked). */
  moveAway(): Promise<void>;
  /** Opens the pipe's other end, so a thread blocked on it can finish, and removes it. */
  release(): Promise<void>;
}

/**
 * The user's adapter file replaced by a named pipe, a stand-in for a stalled disk: a thread
 * opening it blocks until release() opens the other end.
 */
export async function stalledAdapterFile(root: string, user: string): Promise<StalledFile> {
  const path = adapterPath(root, user);
  await mkdir(dirname(path), { recursive: true });
  await rm(path, { force: true });
  expect(spawnSync("mkfifo", [path]).status).toBe(0);
  let at = path;
  return {
    async moveAway() {
      at = join(dirname(root), `${user}-${process.pid}-${Date.now()}.fifo`);
      await rename(path, at);
    },
    async release() {
      try {
        const pipe = await open(at, constants.O_WRONLY | constants.O_NONBLOCK);
        await pipe.close();
      } catch {
        // Nobody reads it any more.
      }
      await rm(at, { force: true });
    },
  };
}
