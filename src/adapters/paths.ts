import { hash } from "node:crypto";
import { join, sep } from "node:path";

export const ADAPTER_FILE_SUFFIX = ".safetensors";

/** Hex sha256 of the user id: file names never contain the raw id. */
export function userHash(user: string): string {
  return hash("sha256", user, "hex");
}

/** `<root>/<h[0..2]>/<h[2..4]>/<h>.safetensors`, h = sha256(user). */
export function adapterPath(root: string, user: string): string {
  const h = userHash(user);
  // Concatenation, not join(): this runs on every uncached score, and only root needs normalizing.
  return `${normalizedRoot(root)}${sep}${h.slice(0, 2)}${sep}${h.slice(2, 4)}${sep}${h}${ADAPTER_FILE_SUFFIX}`;
}

let lastRoot = "";
let lastNormalized = "";

function normalizedRoot(root: string): string {
  if (root !== lastRoot) {
    const joined = join(root, ".");
    lastNormalized = joined.endsWith(sep) ? joined.slice(0, -1) : joined;
    lastRoot = root;
  }
  return lastNormalized;
}

const SHARD = /^[0-9a-f]{2}$/;
const ADAPTER_FILE = /^[0-9a-f]{64}\.safetensors$/;

export function isShardName(name: string): boolean {
  return SHARD.test(name);
}

export function isAdapterFileName(name: string): boolean {
  return ADAPTER_FILE.test(name);
}
