import { rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { errorCode, isTempInFlight, namesIn, tempFileOwner } from "./durable-fs.js";
import { isAdapterFileName, isShardName } from "./paths.js";

export interface ScanResult {
  adapterFiles: number;
  removedTempFiles: number;
}

export interface ScanOptions {
  /** Temp files older than this are abandoned whoever wrote them. */
  tempFileMaxAgeMs: number;
}

/** Counts the adapter files under root and removes temp files left by crashed writers. */
export async function scanStore(root: string, options: ScanOptions): Promise<ScanResult> {
  const result: ScanResult = { adapterFiles: 0, removedTempFiles: 0 };
  for (const outer of await shardNames(root)) {
    for (const inner of await shardNames(join(root, outer))) {
      const dir = join(root, outer, inner);
      for (const name of await namesIn(dir)) {
        if (isAdapterFileName(name)) result.adapterFiles++;
        else if (await isAbandonedTemp(dir, name, options)) {
          await rm(join(dir, name), { force: true });
          result.removedTempFiles++;
        }
      }
    }
  }
  return result;
}

async function shardNames(dir: string): Promise<string[]> {
  return (await namesIn(dir)).filter(isShardName);
}

/**
 * A temp file is abandoned when no write of this process owns it and its writer is gone: a dead
 * process id, this process's own id (a restart that reused it), or simply too old. A writer in
 * another pid namespace may be misjudged; it then fails its write, and no file is ever damaged.
 */
async function isAbandonedTemp(dir: string, name: string, options: ScanOptions): Promise<boolean> {
  const owner = tempFileOwner(name);
  const path = join(dir, name);
  if (owner === undefined || isTempInFlight(path)) return false;
  if (owner === process.pid || !isProcessAlive(owner)) return true;
  try {
    return Date.now() - (await stat(path)).mtimeMs > options.tempFileMaxAgeMs;
  } catch {
    return false;
  }
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === "EPERM";
  }
}
