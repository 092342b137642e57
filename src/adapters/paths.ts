import { createHash } from "node:crypto";
import { join } from "node:path";

export const ADAPTER_FILE_SUFFIX = ".safetensors";

/** Hex sha256 of the user id: file names never contain the raw id. */
export function userHash(user: string): string {
  return createHash("sha256").update(user, "utf8").digest("hex");
}

/** `<root>/<h[0..2]>/<h[2..4]>/<h>.safetensors`, h = sha256(user). */
export function adapterPath(root: string, user: string): string {
  const h = userHash(user);
  return join(root, h.slice(0, 2), h.slice(2, 4), h + ADAPTER_FILE_SUFFIX);
}

const SHARD = /^[0-9a-f]{2}$/;
const ADAPTER_FILE = /^[0-9a-f]{64}\.safetensors$/;

export function isShardName(name: string): boolean {
  return SHARD.test(name);
}

export function isAdapterFileName(name: string): boolean {
  return ADAPTER_FILE.test(name);
}
