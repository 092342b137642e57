import { rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { errorCode, isTempInFlight, namesIn, tempFileOwner } from "../../io/durable-fs.js";
import { isAdapterFileName, isShardName } from "./paths.js";

export interface ScanResult {
  adapterFiles: number;
  removedTempFiles: number;
}

export interface ScanOptions {
  /** Temp files older than this are abandoned whoever wrote them. */
  tempFileMaxAgeMs: number;
  /** Shard directories listed at once; default 16. */
  concurrency?: number;
  /** Stops the scan between directories; it then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Counts the adapter files under root and removes temp files left by crashed writers. */
export async function scanStore(root: string, options: ScanOptions): Promise<ScanResult> {
  const result: ScanResult = { adapterFiles: 0, removedTempFiles: 0 };
  const { signal } = options;
  const dirs: string[] = [];
  for (const outer of await shardNames(root)) {
    signal?.throwIfAborted();
    for (const inner of await shardNames(join(root, outer))) dirs.push(join(root, outer, inner));
  }
  let next = 0;
  const worker = async () => {
    while (next < dirs.length) {
      signal?.throwIfAborted();
      const dir = dirs[next++]!;
      const names = await namesIn(dir);
      const adapters = names.filter(isAdapterFileName).length;
      result.adapterFiles += adapters;
      for (const name of names) {
        if (isAdapterFileName(name) || !(await isAbandonedTemp(dir, name, options))) continue;
        await rm(join(dir, name), { force: true });
        result.removedTempFiles++;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 16 }, worker));
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
