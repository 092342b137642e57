import { closeSync, fstatSync, readSync } from "node:fs";
import { openIfExists, openSyncIfExists } from "../../io/durable-fs.js";
import type { DecodedWeights } from "../format.js";
import type { AdapterWeights } from "../types.js";

/** Decodes from the file's leading bytes, or asks for more of them. */
export type WeightsDecoder = (prefix: Uint8Array, fileBytes: number) => DecodedWeights;

/** One pread of this many bytes reads the whole adapter file of a typical head (k·m ≤ 32). */
export const WEIGHTS_READ_BYTES = 16 * 1024;

/** A header, then W, then nothing: a decoder asking a fourth time is broken. */
const MAX_ROUNDS = 3;

/**
 * Reads only the leading bytes of the file that the decoder needs. `scratch` is reused between
 * calls, so the decoder must copy what it keeps. Resolves undefined when the file does not exist.
 */
export function readWeightsSync(
  path: string,
  decode: WeightsDecoder,
  scratch: Uint8Array,
): AdapterWeights | undefined {
  const fd = openSyncIfExists(path);
  if (fd === undefined) return undefined;
  try {
    // A regular file reads short only at its end: a file smaller than scratch needs no fstat.
    let prefix = scratch.subarray(0, readSync(fd, scratch, 0, scratch.length, 0));
    const fileBytes = prefix.length < scratch.length ? prefix.length : fstatSync(fd).size;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const decoded = decode(prefix, fileBytes);
      if ("weights" in decoded) return decoded.weights;
      prefix = fill(fd, new Uint8Array(Math.min(decoded.needBytes, fileBytes)));
    }
    throw new Error(`decoder of ${path} kept asking for more bytes`);
  } finally {
    closeSync(fd);
  }
}

/** The same with the thread pool's reads, for file systems where a read may stall. */
export async function readWeights(
  path: string,
  decode: WeightsDecoder,
  firstBytes: number,
): Promise<AdapterWeights | undefined> {
  const handle = await openIfExists(path);
  if (handle === undefined) return undefined;
  try {
    const fileBytes = (await handle.stat()).size;
    let length = Math.min(firstBytes, fileBytes);
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const prefix = new Uint8Array(length);
      const { bytesRead } = await handle.read(prefix, 0, length, 0);
      const decoded = decode(prefix.subarray(0, bytesRead), fileBytes);
      if ("weights" in decoded) return decoded.weights;
      length = Math.min(decoded.needBytes, fileBytes);
    }
    throw new Error(`decoder of ${path} kept asking for more bytes`);
  } finally {
    await handle.close();
  }
}

/** What readFileSyncBounded answers for a file larger than its bound. */
export const TOO_LARGE = Symbol("too large");

/** The whole file, or undefined when it does not exist, or TOO_LARGE beyond maxBytes. */
export function readFileSyncBounded(
  path: string,
  maxBytes: number,
): Uint8Array | undefined | typeof TOO_LARGE {
  const fd = openSyncIfExists(path);
  if (fd === undefined) return undefined;
  try {
    const { size } = fstatSync(fd);
    if (size > maxBytes) return TOO_LARGE;
    return fill(fd, new Uint8Array(size));
  } finally {
    closeSync(fd);
  }
}

function fill(fd: number, target: Uint8Array): Uint8Array {
  let filled = 0;
  while (filled < target.length) {
    const n = readSync(fd, target, filled, target.length - filled, filled);
    if (n === 0) break;
    filled += n;
  }
  return target.subarray(0, filled);
}
