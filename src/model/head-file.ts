import { createHash } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileDurably } from "../io/durable-fs.js";
import { decodeSafetensors, encodeSafetensors, type Tensor } from "./safetensors.js";

export const HEAD_FILE = "head.safetensors";
export const HEAD_FORMAT = "sharelora-head";
export const HEAD_VERSION = "1";

const HASH_HEX_CHARS = 16;
const MAX_HEAD_FILE_BYTES = 256 * 1024 * 1024;

/** Population prior over vec(W) (row-major k×m flattening): N(mean, cov). */
export interface HeadPrior {
  /** Length k·m. */
  mean: Float64Array;
  /** (k·m)×(k·m), row-major. */
  cov: Float64Array;
}

/**
 * Where B came from, recorded in the head's metadata: "trained" by `fit`, the principal
 * directions of Φ over calibration texts ("calibration-pca", `import-model --calibration`), or
 * "none" (B = 0: an imported head that onboarding cannot use until `fit` learns B).
 */
export const HEAD_BASES = ["trained", "calibration-pca", "none"] as const;
export type HeadBasis = (typeof HEAD_BASES)[number];

export interface Head {
  d: number;
  m: number;
  k: number;
  /** d×m, row-major: theta0[i*m + j]. */
  theta0: Float32Array;
  b0: number;
  /** d×k, row-major: B[i*k + a]. */
  B: Float32Array;
  /** Content hash of the tensors (see computeHeadHash). */
  hash: string;
  modelId: string;
  prior?: HeadPrior;
  /** Absent in heads written before it was recorded. */
  basis?: HeadBasis;
}

export type HeadTensors = Pick<Head, "d" | "m" | "k" | "theta0" | "b0" | "B" | "prior">;

export class HeadFileError extends Error {
  readonly code = "HEAD_INVALID";
  override readonly name = "HeadFileError";
}

export class HeadHashMismatchError extends Error {
  readonly code = "HEAD_HASH_MISMATCH";
  override readonly name = "HeadHashMismatchError";
}

function assertDimension(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new TypeError(`head.${name}: expected a positive integer, got ${value}`);
  }
}

function assertLength(name: string, actual: number, expected: number, shape: string): void {
  if (actual !== expected) {
    throw new TypeError(`head.${name}: expected ${expected} values (${shape}), got ${actual}`);
  }
}

function assertFinite(name: string, values: ArrayLike<number>): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new TypeError(`head.${name}[${i}]: expected a finite number, got ${values[i]}`);
    }
  }
}

/** Checks the head's dimensions, lengths and values; returns its tensors as stored on disk. */
function toTensors(head: HeadTensors): Record<string, Tensor> {
  const { d, m, k } = head;
  assertDimension("d", d);
  assertDimension("m", m);
  assertDimension("k", k);
  assertLength("theta0", head.theta0.length, d * m, `d×m = ${d}×${m}`);
  assertLength("B", head.B.length, d * k, `d×k = ${d}×${k}`);
  const b0 = new Float32Array([head.b0]);
  assertFinite("theta0", head.theta0);
  assertFinite("B", head.B);
  assertFinite("b0", b0);
  const tensors: Record<string, Tensor> = {
    theta0: { dtype: "F32", shape: [d, m], data: head.theta0 },
    b0: { dtype: "F32", shape: [1], data: b0 },
    B: { dtype: "F32", shape: [d, k], data: head.B },
  };
  if (head.prior !== undefined) {
    const p = k * m;
    assertLength("prior.mean", head.prior.mean.length, p, `k·m = ${p}`);
    assertLength("prior.cov", head.prior.cov.length, p * p, `(k·m)² = ${p}×${p}`);
    assertFinite("prior.mean", head.prior.mean);
    assertFinite("prior.cov", head.prior.cov);
    tensors["prior_mean"] = { dtype: "F64", shape: [p], data: head.prior.mean };
    tensors["prior_cov"] = { dtype: "F64", shape: [p, p], data: head.prior.cov };
  }
  return tensors;
}

function hashTensors(tensors: Record<string, Tensor>): string {
  const hash = createHash("sha256");
  for (const name of Object.keys(tensors).sort()) {
    const { dtype, shape, data } = tensors[name]!;
    hash.update(`${name}\0${dtype}\0${shape.join(",")}\0`);
    hash.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  return hash.digest("hex").slice(0, HASH_HEX_CHARS);
}

/**
 * Hex sha256 (first 16 characters) over each tensor's name, dtype, shape and little-endian bytes,
 * in name order. b0 is hashed as the float32 it is stored as.
 */
export function computeHeadHash(head: HeadTensors): string {
  return hashTensors(toTensors(head));
}

export function encodeHead(head: Head): Uint8Array {
  const tensors = toTensors(head);
  const hash = hashTensors(tensors);
  if (head.hash !== hash) {
    throw new TypeError(
      `head.hash: expected ${hash} (computeHeadHash of its tensors), got ${head.hash}`,
    );
  }
  if (head.modelId.length === 0) throw new TypeError("head.modelId: expected a non-empty string");
  return encodeSafetensors(tensors, {
    format: HEAD_FORMAT,
    version: HEAD_VERSION,
    d: String(head.d),
    m: String(head.m),
    k: String(head.k),
    model_id: head.modelId,
    hash,
    ...(head.basis === undefined ? {} : { basis: head.basis }),
  });
}

function parseDimension(source: string, metadata: Record<string, string>, key: string): number {
  const text = metadata[key];
  if (text === undefined || !/^[1-9][0-9]{0,8}$/.test(text)) {
    throw new HeadFileError(`${source}: metadata ${key}: expected a positive integer, got ${text}`);
  }
  return Number(text);
}

function expectTensor(
  source: string,
  tensors: Record<string, Tensor>,
  name: string,
  dtype: "F32" | "F64",
  shape: number[],
): Tensor {
  const tensor = tensors[name];
  if (tensor === undefined) throw new HeadFileError(`${source}: missing tensor ${name}`);
  if (tensor.dtype !== dtype || tensor.shape.join(",") !== shape.join(",")) {
    throw new HeadFileError(
      `${source}: tensor ${name}: expected ${dtype} [${shape}], got ${tensor.dtype} [${tensor.shape}]`,
    );
  }
  return tensor;
}

/** Decodes and validates head.safetensors bytes; `source` names the file in error messages. */
export function decodeHead(bytes: Uint8Array, source: string): Head {
  let decoded: ReturnType<typeof decodeSafetensors>;
  try {
    decoded = decodeSafetensors(bytes, { maxBytes: MAX_HEAD_FILE_BYTES });
  } catch (error) {
    throw new HeadFileError(`${source}: ${(error as Error).message}`);
  }
  const { tensors, metadata } = decoded;
  if (metadata["format"] !== HEAD_FORMAT || metadata["version"] !== HEAD_VERSION) {
    throw new HeadFileError(
      `${source}: expected metadata format "${HEAD_FORMAT}" version "${HEAD_VERSION}", ` +
        `got format ${JSON.stringify(metadata["format"])} version ${JSON.stringify(metadata["version"])}`,
    );
  }
  const d = parseDimension(source, metadata, "d");
  const m = parseDimension(source, metadata, "m");
  const k = parseDimension(source, metadata, "k");
  const modelId = metadata["model_id"];
  if (modelId === undefined || modelId.length === 0) {
    throw new HeadFileError(`${source}: metadata model_id: expected a non-empty string`);
  }
  const basis = metadata["basis"];
  if (basis !== undefined && !(HEAD_BASES as readonly string[]).includes(basis)) {
    throw new HeadFileError(
      `${source}: metadata basis: expected one of ${HEAD_BASES.join(", ")}, got ${JSON.stringify(basis)}`,
    );
  }
  const allowed = new Set(["theta0", "b0", "B", "prior_mean", "prior_cov"]);
  const unexpected = Object.keys(tensors).filter((name) => !allowed.has(name));
  if (unexpected.length > 0) {
    throw new HeadFileError(`${source}: unexpected tensors ${unexpected.join(", ")}`);
  }
  const hasMean = tensors["prior_mean"] !== undefined;
  if (hasMean !== (tensors["prior_cov"] !== undefined)) {
    throw new HeadFileError(`${source}: expected both prior_mean and prior_cov, or neither`);
  }
  const p = k * m;
  const head: HeadTensors = {
    d,
    m,
    k,
    theta0: expectTensor(source, tensors, "theta0", "F32", [d, m]).data as Float32Array,
    b0: (expectTensor(source, tensors, "b0", "F32", [1]).data as Float32Array)[0]!,
    B: expectTensor(source, tensors, "B", "F32", [d, k]).data as Float32Array,
  };
  if (hasMean) {
    head.prior = {
      mean: expectTensor(source, tensors, "prior_mean", "F64", [p]).data as Float64Array,
      cov: expectTensor(source, tensors, "prior_cov", "F64", [p, p]).data as Float64Array,
    };
  }
  let hash: string;
  try {
    hash = computeHeadHash(head);
  } catch (error) {
    throw new HeadFileError(`${source}: ${(error as Error).message}`);
  }
  if (metadata["hash"] !== hash) {
    throw new HeadHashMismatchError(
      `${source}: metadata hash ${JSON.stringify(metadata["hash"])} does not match the tensors' hash ${hash}`,
    );
  }
  return {
    ...head,
    hash,
    modelId,
    ...(basis === undefined ? {} : { basis: basis as HeadBasis }),
  };
}

export async function readHead(dir: string): Promise<Head> {
  const path = join(dir, HEAD_FILE);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new HeadFileError(`${path}: cannot read the head: ${(error as Error).message}`);
  }
  return decodeHead(bytes, path);
}

/** Writes dir/head.safetensors atomically: temp file, fsync, rename, fsync of the directory. */
export async function writeHead(dir: string, head: Head): Promise<void> {
  const bytes = encodeHead(head);
  await mkdir(dir, { recursive: true });
  await writeFileDurably(join(dir, HEAD_FILE), bytes);
}

/** Mulberry32: a small 32-bit integer PRNG, so seeded heads are identical on every platform. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

export interface SeededHeadOptions {
  d: number;
  m: number;
  k: number;
  /** Unsigned 32-bit integer. */
  seed: number;
  modelId: string;
  /** When given, adds the isotropic prior N(0, priorVariance·I) over vec(W). */
  priorVariance?: number;
}

/**
 * A deterministic, untrained head: theta0 ~ U(-1,1)/√(d·m), B ~ U(-1,1)/√d, b0 ~ U(-0.1,0.1),
 * drawn in that order from mulberry32(seed). A stand-in until trained weights exist.
 */
export function seededHead(options: SeededHeadOptions): Head {
  const { d, m, k, seed, modelId, priorVariance } = options;
  assertDimension("d", d);
  assertDimension("m", m);
  assertDimension("k", k);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new TypeError(`seed: expected an unsigned 32-bit integer, got ${seed}`);
  }
  const next = mulberry32(seed);
  const uniform = () => (next() / 2 ** 32) * 2 - 1;
  const theta0Scale = 1 / Math.sqrt(d * m);
  const bScale = 1 / Math.sqrt(d);
  const theta0 = Float32Array.from({ length: d * m }, () => uniform() * theta0Scale);
  const B = Float32Array.from({ length: d * k }, () => uniform() * bScale);
  const b0 = Math.fround(uniform() * 0.1);
  const tensors: HeadTensors = { d, m, k, theta0, b0, B };
  if (priorVariance !== undefined) {
    if (!(priorVariance > 0) || !Number.isFinite(priorVariance)) {
      throw new TypeError(`priorVariance: expected a positive finite number, got ${priorVariance}`);
    }
    const p = k * m;
    const cov = new Float64Array(p * p);
    for (let i = 0; i < p; i++) cov[i * p + i] = priorVariance;
    tensors.prior = { mean: new Float64Array(p), cov };
  }
  return { ...tensors, hash: computeHeadHash(tensors), modelId };
}
