import { randomBytes } from "node:crypto";
import { openSync } from "node:fs";
import { type FileHandle, mkdir, open, readdir, rename, rm, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

const TEMP_FILE = /^\..+\.(\d+)\.[0-9a-f]{12}\.tmp$/;

/** Temp files this process is writing right now, whichever store instance writes them. */
const tempsInFlight = new Set<string>();

export function isTempInFlight(path: string): boolean {
  return tempsInFlight.has(path);
}

/** Temp files start with a dot and end in .tmp, so no reader ever takes one for a real file. */
export function tempPathFor(path: string): string {
  const name = `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  return join(dirname(path), name);
}

/** The id of the process that wrote a temp file, or undefined for any other name. */
export function tempFileOwner(name: string): number | undefined {
  const match = TEMP_FILE.exec(name);
  return match === null ? undefined : Number(match[1]);
}

/**
 * Readers see the old file or the new one, never a part: the bytes go to a temp file in the same
 * directory, are flushed, then renamed over the target; the directory is flushed so the rename
 * itself survives a crash.
 */
export async function writeFileDurably(path: string, bytes: Uint8Array): Promise<void> {
  const temp = tempPathFor(path);
  tempsInFlight.add(temp);
  try {
    await writeThenRename(temp, path, bytes);
  } finally {
    tempsInFlight.delete(temp);
  }
  await syncDirectory(dirname(path));
}

async function writeThenRename(temp: string, path: string, bytes: Uint8Array): Promise<void> {
  const handle = await open(temp, "wx", 0o644);
  try {
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/**
 * Removes the file and the temp files interrupted writes of it left behind (they hold the same
 * data). Resolves false when the file itself was not there.
 */
export async function removeFileDurably(path: string): Promise<boolean> {
  const dir = dirname(path);
  let removed = true;
  try {
    await unlink(path);
  } catch (error) {
    if (errorCode(error) !== "ENOENT") throw error;
    removed = false;
  }
  let changed = removed;
  const tempPrefix = `.${basename(path)}.`;
  for (const name of await namesIn(dir)) {
    const temp = join(dir, name);
    if (name.startsWith(tempPrefix) && tempFileOwner(name) !== undefined && !isTempInFlight(temp)) {
      await rm(temp, { force: true });
      changed = true;
    }
  }
  if (changed) await syncDirectory(dir);
  return removed;
}

/** The names in a directory; none when it does not exist (or is not a directory). */
export async function namesIn(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if (errorCode(error) === "ENOENT" || errorCode(error) === "ENOTDIR") return [];
    throw error;
  }
}

/** mkdir -p, then flushes the parent of every directory it created. */
export async function makeDirectoryDurably(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined) return;
  const created: string[] = [];
  for (let current = dir; ; current = dirname(current)) {
    created.push(current);
    if (current === first || dirname(current) === current) break;
  }
  for (const path of created.reverse()) await syncDirectory(dirname(path));
}

export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } catch (error) {
    // Some platforms (Windows) cannot fsync a directory; there the rename is all we can do.
    if (!["EISDIR", "EINVAL", "EPERM", "EBADF"].includes(errorCode(error) ?? "")) throw error;
  } finally {
    await handle.close();
  }
}

export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** The file opened for reading, or undefined when there is none. */
export async function openIfExists(path: string): Promise<FileHandle | undefined> {
  try {
    return await open(path, "r");
  } catch (error) {
    if (errorCode(error) === "ENOENT") return undefined;
    throw error;
  }
}

/** The same, synchronously: a file descriptor, or undefined when there is no file. */
export function openSyncIfExists(path: string): number | undefined {
  try {
    return openSync(path, "r");
  } catch (error) {
    if (errorCode(error) === "ENOENT") return undefined;
    throw error;
  }
}
