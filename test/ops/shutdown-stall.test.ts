import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { afterEach, describe, expect, it } from "vitest";
import { adapterPath } from "../../src/adapters/file/paths.js";
import { FileAdapterStore } from "../../src/adapters/file/store.js";
import { toDraft } from "../../src/adapters/import.js";
import { PACKAGE_ROOT } from "../../src/config.js";
import { testAdapter } from "../redis/adapter-file.js";

const ITEMS = [{ prompt: "p", response: "r" }];
const SHUTDOWN_TIMEOUT_MS = 2000;

interface Served {
  child: ChildProcess;
  url: string;
  logs: Record<string, any>[];
  stderr: string[];
  /** Resolves with the exit code and signal, and how long after `since` the process ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** `serve` in a child process on a store where "stalled" is a named pipe and "bob" a file. */
async function serveWithStalledUser(env: Record<string, string>, args: string[]): Promise<Served> {
  const dir = await mkdtemp(join(tmpdir(), "sharelora-stall-"));
  dirs.push(dir);
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith("SHARELORA_")),
  );
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "src/cli.ts",
      "serve",
      "--port",
      "0",
      "--device",
      "cpu",
      "--adapters",
      dir,
      "--shutdown-timeout-ms",
      String(SHUTDOWN_TIMEOUT_MS),
      ...args,
    ],
    { cwd: PACKAGE_ROOT, env: { ...clean, ...env }, stdio: ["ignore", "pipe", "pipe"] },
  );
  children.push(child);
  const logs: Record<string, any>[] = [];
  const stderr: string[] = [];
  child.stderr!.on("data", (chunk) => stderr.push(String(chunk)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>(
    (resolve) =>
      // "close", not "exit": by then every line the process wrote has been read.
      child.once("exit", (code, signal) => {
        const at = performance.now();
        child.once("close", () => resolve({ code, signal, at }));
      }),
  );
  const ready = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      try {
        const record = JSON.parse(line);
        logs.push(record);
        if (record.msg === "ready") resolve(record.url);
      } catch {}
    });
    void exited.then(({ code }) => reject(new Error(`exited (${code}): ${stderr.join("")}`)));
  });
  const url = await ready;
  const info = (await (await fetch(`${url}/v1/info`)).json()) as Record<string, any>;
  const head = {
    hash: info.head.hash as string,
    k: info.head.k as number,
    m: info.model.m as number,
  };
  const files = await FileAdapterStore.open({ root: dir, shape: head });
  for (const user of ["stalled", "bob"]) {
    await files.update(user, () => toDraft(testAdapter(user, head, 1)));
  }
  await files.close();
  const path = adapterPath(dir, "stalled");
  await mkdir(dirname(path), { recursive: true });
  await rm(path);
  expect(spawnSync("mkfifo", [path]).status).toBe(0);
  return { child, url, logs, stderr, exited };
}

function score(url: string, user: string): Promise<{ status: number; body: any }> {
  return fetch(`${url}/v1/score`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ user, items: ITEMS }),
  }).then(
    async (res) => ({ status: res.status, body: await res.json() }),
    () => ({ status: 0, body: null }),
  );
}

/** Waits for the exit, or kills the process `limitMs` after `since` and says it had to. */
async function exitWithin(served: Served, since: number, limitMs: number) {
  const timer = setTimeout(() => served.child.kill("SIGKILL"), since + limitMs - performance.now());
  const exit = await served.exited;
  clearTimeout(timer);
  return { ...exit, afterMs: exit.at - since };
}

describe("SIGTERM with a reader thread stuck in a read", () => {
  it("exits within the shutdown timeout after a stall that passed its deadline", async () => {
    const served = await serveWithStalledUser({ SHARELORA_ADAPTER_READ_TIMEOUT_MS: "300" }, [
      "--request-timeout-ms",
      "5000",
    ]);
    const stalled = await score(served.url, "stalled");
    expect(stalled.status).toBe(503);
    expect((await score(served.url, "bob")).status).toBe(200);
    const logged = served.logs.find((r) => r.msg === "adapter read stalled");
    expect(logged).toMatchObject({ level: 40, user: "stalled" });

    const since = performance.now();
    served.child.kill("SIGTERM");
    const exit = await exitWithin(served, since, SHUTDOWN_TIMEOUT_MS + 8000);
    expect(exit.afterMs).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
    // The stuck thread cannot be joined, so the process ends by the signal it was sent.
    expect(exit).toMatchObject({ code: null, signal: "SIGTERM" });
    expect(served.logs.some((r) => r.msg === "shutting down")).toBe(true);
    expect(served.logs.find((r) => /reader thread/.test(r.msg ?? ""))).toMatchObject({
      level: 40,
    });
    expect(served.stderr.join("")).toBe("");
  });

  it("exits at the shutdown timeout while a read is still stuck within its deadline", async () => {
    const served = await serveWithStalledUser({ SHARELORA_ADAPTER_READ_TIMEOUT_MS: "60000" }, []);
    const pending = score(served.url, "stalled");
    await new Promise((resolve) => setTimeout(resolve, 300));
    const since = performance.now();
    served.child.kill("SIGTERM");
    const exit = await exitWithin(served, since, SHUTDOWN_TIMEOUT_MS + 8000);
    expect(exit.afterMs).toBeGreaterThanOrEqual(SHUTDOWN_TIMEOUT_MS - 100);
    expect(exit.afterMs).toBeLessThan(SHUTDOWN_TIMEOUT_MS + 1500);
    expect(exit.signal).toBe("SIGTERM");
    expect(served.logs.some((r) => r.msg === "shutdown took too long; exiting")).toBe(true);
    expect((await pending).status).toBe(0);
  });
});
