import { join, sep } from "node:path";
import { userHash } from "../user-hash.js";

export const ADAPTER_FILE_SUFFIX = ".safetensors";

/** `<root>/<h[0..2]>/<h[2..4]>/<h>.safetensors`, h = sha256(user). */
export function adapterPath(root: string, user: string): string {
  return adapterPathUnder(rootPrefix(root), user);
}

/** root, normalized, with the separator after it: what adapterPathUnder takes. */
export function rootPrefix(root: string): string {
  const joined = join(root, ".");
  return joined.endsWith(sep) ? joined : joined + sep;
}

/**
 * adapterPath with the root's prefix computed once (rootPrefix): plain concatenation, because
 * this runs on every uncached score and join() would normalize the whole path each time.
 */
export function adapterPathUnder(prefix: string, user: string): string {
  const h = userHash(user);
  return `${prefix}${h.slice(0, 2)}${sep}${h.slice(2, 4)}${sep}${h}${ADAPTER_FILE_SUFFIX}`;
}

const SHARD = /^[0-9a-f]{2}$/;
const ADAPTER_FILE = /^[0-9a-f]{64}\.safetensors$/;

export function isShardName(name: string): boolean {
  return SHARD.test(name);
}

export function isAdapterFileName(name: string): boolean {
  return ADAPTER_FILE.test(name);
}
