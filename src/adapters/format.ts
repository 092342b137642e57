import {
  declaredHeaderEnd,
  encodeSafetensors,
  readSafetensorsHeader,
  type SafetensorsHeader,
  type Tensor,
  type TensorEntry,
  tensorAt,
} from "../model/safetensors.js";
import { AdapterError } from "./errors.js";
import type {
  Adapter,
  AdapterPairs,
  AdapterPosterior,
  AdapterShape,
  AdapterWeights,
} from "./types.js";
import { checkAdapterContent, checkWeights } from "./validate.js";

export const ADAPTER_FORMAT = "sharelora-adapter";
export const ADAPTER_FORMAT_VERSION = "1";
export const MAX_ADAPTER_HEADER_BYTES = 64 * 1024;
export const DEFAULT_MAX_ADAPTER_BYTES = 16 * 1024 * 1024;

const TENSOR_NAMES = new Set(["W", "posterior_cholesky", "pairs_g", "pairs_o"]);

/** One adapter as a safetensors file: tensors W, posterior_cholesky, pairs_g, pairs_o. */
export function encodeAdapter(adapter: Adapter): Uint8Array {
  const { k, m } = adapter;
  const p = k * m;
  const tensors: Record<string, Tensor> = { W: { dtype: "F32", shape: [k, m], data: adapter.W } };
  const metadata: Record<string, string> = {
    format: ADAPTER_FORMAT,
    format_version: ADAPTER_FORMAT_VERSION,
    user: adapter.user,
    version: String(adapter.version),
    head_hash: adapter.headHash,
    created_at: adapter.createdAt,
    updated_at: adapter.updatedAt,
    n_pairs: String(adapter.nPairs),
    metrics: JSON.stringify(adapter.metrics),
  };
  if (adapter.posterior !== undefined) {
    tensors["posterior_cholesky"] = {
      dtype: "F64",
      shape: [p, p],
      data: adapter.posterior.cholesky,
    };
    metadata["lambda"] = String(adapter.posterior.lambda);
  }
  if (adapter.pairs !== undefined) {
    const n = adapter.pairs.o.length;
    tensors["pairs_g"] = { dtype: "F32", shape: [n, p], data: adapter.pairs.g };
    tensors["pairs_o"] = { dtype: "F32", shape: [n], data: adapter.pairs.o };
  }
  return encodeSafetensors(tensors, metadata);
}

export interface DecodeAdapterOptions {
  /** The user the caller asked for: a file naming anyone else is rejected. */
  user: string;
  /** k×m of the head the adapter will be applied to. */
  shape: AdapterShape;
  maxBytes?: number;
  /** ADAPTER_CORRUPT (default) for stored files, INVALID_ADAPTER for uploads. */
  invalidCode?: "ADAPTER_CORRUPT" | "INVALID_ADAPTER";
}

/** What scoring needs of an adapter, read without the posterior and the pair statistics. */
export type DecodedWeights = { weights: AdapterWeights } | { needBytes: number };

/**
 * Decodes W and the identity fields from the first bytes of an adapter file of `fileBytes` bytes,
 * checking only what scoring uses, or says how many leading bytes it needs (at most twice: the
 * header, then W).
 */
export function decodeAdapterWeights(
  prefix: Uint8Array,
  fileBytes: number,
  options: DecodeAdapterOptions,
): DecodedWeights {
  const { fail, maxBytes } = decoding(options);
  const headerEnd = declaredHeaderEnd(prefix, MAX_ADAPTER_HEADER_BYTES);
  if (headerEnd !== undefined && headerEnd > prefix.length && headerEnd <= fileBytes) {
    return { needBytes: headerEnd };
  }
  const header = readHeader(prefix, fileBytes, maxBytes, fail);
  const entry = checkIdentity(header, options, fail);
  const wEnd = header.dataOffset + entry.end;
  if (wEnd > prefix.length) return { needBytes: wEnd };
  const { metadata } = header;
  const weights: AdapterWeights = {
    user: options.user,
    version: parseVersion(metadata, fail),
    headHash: metadata["head_hash"] ?? fail("missing head_hash"),
    k: options.shape.k,
    m: options.shape.m,
    W: tensorAt(prefix, header, entry).data as Float32Array,
  };
  checkWeights(weights, { user: options.user, shape: options.shape, invalidCode: code(options) });
  return { weights };
}

export function decodeAdapter(bytes: Uint8Array, options: DecodeAdapterOptions): Adapter {
  const { user, shape } = options;
  const { fail, maxBytes } = decoding(options);
  const header = readHeader(bytes, bytes.byteLength, maxBytes, fail);
  const entry = checkIdentity(header, options, fail);
  const { metadata } = header;
  const tensors: Record<string, Tensor> = {};
  for (const e of header.entries) tensors[e.name] = tensorAt(bytes, header, e);
  const { k, m } = shape;
  const p = k * m;

  let posterior: AdapterPosterior | undefined;
  const cholesky = tensors["posterior_cholesky"];
  if (cholesky !== undefined) {
    if (cholesky.dtype !== "F64" || !sameShape(cholesky.shape, [p, p])) {
      fail(`expected posterior_cholesky to be an F64 tensor of shape [${p}, ${p}]`);
    }
    posterior = {
      cholesky: cholesky.data as Float64Array,
      lambda: parseNumber(metadata["lambda"], "lambda", fail),
    };
  } else if (metadata["lambda"] !== undefined) {
    fail("lambda is set but posterior_cholesky is missing");
  }

  let pairs: AdapterPairs | undefined;
  const g = tensors["pairs_g"];
  const o = tensors["pairs_o"];
  if ((g === undefined) !== (o === undefined))
    fail("expected both pairs_g and pairs_o, or neither");
  if (g !== undefined && o !== undefined) {
    const n = o.shape[0] ?? -1;
    if (o.dtype !== "F32" || o.shape.length !== 1) fail("expected pairs_o to be a 1-d F32 tensor");
    if (g.dtype !== "F32" || !sameShape(g.shape, [n, p])) {
      fail(`expected pairs_g to be an F32 tensor of shape [${n}, ${p}]`);
    }
    pairs = { g: g.data as Float32Array, o: o.data as Float32Array };
  }

  const adapter: Adapter = {
    user,
    version: parseVersion(metadata, fail),
    headHash: metadata["head_hash"] ?? fail("missing head_hash"),
    createdAt: parseTimestamp(metadata["created_at"], "created_at", fail),
    updatedAt: parseTimestamp(metadata["updated_at"], "updated_at", fail),
    k,
    m,
    W: tensors[entry.name]!.data as Float32Array,
    nPairs: parseCount(metadata["n_pairs"], "n_pairs", fail),
    metrics: parseMetrics(metadata["metrics"], fail),
  };
  if (posterior !== undefined) adapter.posterior = posterior;
  if (pairs !== undefined) adapter.pairs = pairs;
  checkAdapterContent(adapter, { user, shape, invalidCode: code(options) });
  return adapter;
}

function code(options: DecodeAdapterOptions): "ADAPTER_CORRUPT" | "INVALID_ADAPTER" {
  return options.invalidCode ?? "ADAPTER_CORRUPT";
}

function decoding(options: DecodeAdapterOptions): { fail: Fail; maxBytes: number } {
  const invalidCode = code(options);
  const { user } = options;
  const fail = (detail: string, cause?: unknown): never => {
    throw new AdapterError(invalidCode, `adapter of user ${user}: ${detail}`, { user, cause });
  };
  return { fail, maxBytes: options.maxBytes ?? DEFAULT_MAX_ADAPTER_BYTES };
}

function readHeader(
  bytes: Uint8Array,
  fileBytes: number,
  maxBytes: number,
  fail: (detail: string, cause?: unknown) => never,
): SafetensorsHeader {
  if (fileBytes > maxBytes) fail(`file is ${fileBytes} bytes, more than the ${maxBytes} allowed`);
  try {
    return readSafetensorsHeader(bytes, fileBytes, {
      maxHeaderBytes: MAX_ADAPTER_HEADER_BYTES,
      maxBytes,
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return fail(`not a readable safetensors file (${reason})`, error);
  }
}

/** Checks format, owner, tensor names and W's dtype and shape; returns W's entry. */
function checkIdentity(
  header: SafetensorsHeader,
  options: DecodeAdapterOptions,
  fail: Fail,
): TensorEntry {
  const { metadata, entries } = header;
  const { user, shape } = options;
  if (metadata["format"] !== ADAPTER_FORMAT) fail(`expected format "${ADAPTER_FORMAT}"`);
  if (metadata["format_version"] !== ADAPTER_FORMAT_VERSION) {
    fail(`expected format_version "${ADAPTER_FORMAT_VERSION}"`);
  }
  if (metadata["user"] !== user) fail("the file belongs to a different user");
  let W: TensorEntry | undefined;
  for (const entry of entries) {
    if (!TENSOR_NAMES.has(entry.name)) {
      fail(`unexpected tensor ${JSON.stringify(entry.name.slice(0, 64))}`);
    }
    if (entry.name === "W") W = entry;
  }
  if (W === undefined) return fail("missing tensor W");
  if (W.dtype !== "F32" || W.shape.length !== 2) fail("expected W to be a 2-d F32 tensor");
  const [k, m] = W.shape as [number, number];
  if (k !== shape.k || m !== shape.m) {
    throw new AdapterError(
      "ADAPTER_SHAPE_MISMATCH",
      `adapter of user ${user} is ${k}×${m}, the head expects ${shape.k}×${shape.m}`,
      { user },
    );
  }
  return W;
}

function parseVersion(metadata: Record<string, string>, fail: Fail): number {
  const version = parseCount(metadata["version"], "version", fail);
  return version >= 1 ? version : fail("expected version ≥ 1");
}

function sameShape(actual: readonly number[], expected: readonly number[]): boolean {
  return actual.length === expected.length && actual.every((size, i) => size === expected[i]);
}

type Fail = (detail: string) => never;

function parseCount(text: string | undefined, name: string, fail: Fail): number {
  if (text === undefined || !/^(0|[1-9][0-9]{0,15})$/.test(text)) {
    return fail(`expected ${name} to be a non-negative integer`);
  }
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : fail(`${name} is too large`);
}

function parseNumber(text: string | undefined, name: string, fail: Fail): number {
  const value = text === undefined || text.trim() === "" ? Number.NaN : Number(text);
  return Number.isFinite(value) ? value : fail(`expected ${name} to be a finite number`);
}

function parseTimestamp(text: string | undefined, name: string, fail: Fail): string {
  if (text === undefined || !Number.isFinite(Date.parse(text))) {
    return fail(`expected ${name} to be an ISO 8601 timestamp`);
  }
  return text;
}

function parseMetrics(text: string | undefined, fail: Fail): Record<string, number> {
  if (text === undefined) return fail("missing metrics");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return fail("metrics is not valid JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return fail("expected metrics to be a JSON object of numbers");
  }
  return parsed as Record<string, number>;
}
