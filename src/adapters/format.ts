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
import {
  ADAPTER_FIELDS,
  checkAdapterContent,
  checkWeights,
  MAX_HEAD_HASH_CHARS,
  shapeMismatch,
} from "./validate.js";

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
  /**
   * Hash of the head the adapter will be applied to. An adapter of another head is stale whatever
   * its shape: it is decoded with its own k×m (and checked only for being whole and in range), so
   * that callers can tell it stale rather than broken. Without it, every adapter must have `shape`.
   */
  headHash?: string | undefined;
  maxBytes?: number;
  /** ADAPTER_CORRUPT (default) for stored files, INVALID_ADAPTER for uploads. */
  invalidCode?: "ADAPTER_CORRUPT" | "INVALID_ADAPTER";
}

/** What scoring needs of an adapter, read without the posterior and the pair statistics. */
export type DecodedWeights = { weights: AdapterWeights } | { needBytes: number };

/**
 * Decodes W and the identity fields from the first bytes of an adapter file of `fileBytes` bytes,
 * checking only what scoring uses, or says how many leading bytes it needs (at most twice: the
 * header, then W). An adapter of another head than options.headHash is not applied by scoring, so
 * its W is not read: it comes back as zeros of options.shape.
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
  const { entry, stale } = checkIdentity(header, options, fail);
  const { metadata } = header;
  const identity = {
    user: options.user,
    version: parseVersion(metadata, fail),
    headHash: parseHeadHash(metadata, fail),
    k: options.shape.k,
    m: options.shape.m,
  };
  if (stale) return { weights: { ...identity, W: new Float32Array(identity.k * identity.m) } };
  const wEnd = header.dataOffset + entry.end;
  if (wEnd > prefix.length) return { needBytes: wEnd };
  const weights: AdapterWeights = {
    ...identity,
    W: tensorAt(prefix, header, entry).data as Float32Array,
  };
  checkWeights(weights, { user: options.user, shape: options.shape, invalidCode: code(options) });
  return { weights };
}

/**
 * The whole adapter, checked: the head's k×m, or its own for an adapter of another head than
 * options.headHash (see DecodeAdapterOptions).
 */
export function decodeAdapter(bytes: Uint8Array, options: DecodeAdapterOptions): Adapter {
  const { user } = options;
  const { fail, maxBytes } = decoding(options);
  const header = readHeader(bytes, bytes.byteLength, maxBytes, fail);
  const { entry, shape } = checkIdentity(header, options, fail);
  const { metadata } = header;
  const tensors: Record<string, Tensor> = {};
  for (const e of header.entries) tensors[e.name] = tensorAt(bytes, header, e);
  const { k, m } = shape;
  const p = k * m;

  let posterior: AdapterPosterior | undefined;
  const cholesky = tensors[ADAPTER_FIELDS.cholesky];
  if (cholesky !== undefined) {
    if (cholesky.dtype !== "F64" || !sameShape(cholesky.shape, [p, p])) {
      fail(
        `expected posterior_cholesky to be an F64 tensor of shape [${p}, ${p}]`,
        ADAPTER_FIELDS.cholesky,
      );
    }
    posterior = {
      cholesky: cholesky.data as Float64Array,
      lambda: parseNumber(metadata["lambda"], "lambda", fail),
    };
  } else if (metadata["lambda"] !== undefined) {
    fail("lambda is set but posterior_cholesky is missing", ADAPTER_FIELDS.cholesky);
  }

  let pairs: AdapterPairs | undefined;
  const g = tensors[ADAPTER_FIELDS.g];
  const o = tensors[ADAPTER_FIELDS.o];
  if ((g === undefined) !== (o === undefined)) {
    fail(
      "expected both pairs_g and pairs_o, or neither",
      g === undefined ? ADAPTER_FIELDS.g : ADAPTER_FIELDS.o,
    );
  }
  if (g !== undefined && o !== undefined) {
    const n = o.shape[0] ?? -1;
    if (o.dtype !== "F32" || o.shape.length !== 1) {
      fail("expected pairs_o to be a 1-d F32 tensor", ADAPTER_FIELDS.o);
    }
    if (g.dtype !== "F32" || !sameShape(g.shape, [n, p])) {
      fail(`expected pairs_g to be an F32 tensor of shape [${n}, ${p}]`, ADAPTER_FIELDS.g);
    }
    pairs = { g: g.data as Float32Array, o: o.data as Float32Array };
  }

  const adapter: Adapter = {
    user,
    version: parseVersion(metadata, fail),
    headHash: parseHeadHash(metadata, fail),
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

/** What a damaged record still tells of the adapter it held. */
export interface RecoveredIdentity {
  /** The highest version its header still names, if any. */
  version: number | undefined;
  createdAt: string | undefined;
}

const VERSION_KEY = /"version"\s*:\s*"(0|[1-9][0-9]{0,15})"/g;
const CREATED_AT_KEY = /"created_at"\s*:\s*"([0-9T:.+\-Z ]{1,64})"/;

/**
 * Reads the version and creation time out of what is left of an adapter file's header, without
 * needing the file to decode: the metadata is JSON near the start, so a file cut short, with a
 * damaged tensor or a damaged length prefix usually still shows them. Keys inside JSON strings
 * are escaped (\"version\") and never match.
 */
export function recoverIdentity(prefix: Uint8Array): RecoveredIdentity {
  const end = Math.min(prefix.length, 8 + MAX_ADAPTER_HEADER_BYTES);
  const text = Buffer.from(prefix.buffer, prefix.byteOffset, end).toString("latin1");
  let version: number | undefined;
  for (const match of text.matchAll(VERSION_KEY)) {
    const value = Number(match[1]);
    if (Number.isSafeInteger(value) && value >= 1 && (version === undefined || value > version)) {
      version = value;
    }
  }
  const created = CREATED_AT_KEY.exec(text)?.[1];
  const createdAt =
    created !== undefined && Number.isFinite(Date.parse(created)) ? created : undefined;
  return { version, createdAt };
}

/** The leading bytes recoverIdentity looks at. */
export const RECOVERY_BYTES = 8 + MAX_ADAPTER_HEADER_BYTES;

function code(options: DecodeAdapterOptions): "ADAPTER_CORRUPT" | "INVALID_ADAPTER" {
  return options.invalidCode ?? "ADAPTER_CORRUPT";
}

function decoding(options: DecodeAdapterOptions): { fail: Fail; maxBytes: number } {
  const invalidCode = code(options);
  const { user } = options;
  const fail: Fail = (detail, field, cause) => {
    throw new AdapterError(invalidCode, `adapter of user ${user}: ${detail}`, {
      user,
      cause,
      field,
    });
  };
  return { fail, maxBytes: options.maxBytes ?? DEFAULT_MAX_ADAPTER_BYTES };
}

function readHeader(
  bytes: Uint8Array,
  fileBytes: number,
  maxBytes: number,
  fail: Fail,
): SafetensorsHeader {
  if (fileBytes > maxBytes) fail(`file is ${fileBytes} bytes, more than the ${maxBytes} allowed`);
  try {
    return readSafetensorsHeader(bytes, fileBytes, {
      maxHeaderBytes: MAX_ADAPTER_HEADER_BYTES,
      maxBytes,
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return fail(`not a readable safetensors file (${reason})`, undefined, error);
  }
}

/**
 * Checks format, owner, tensor names and W's dtype and shape. Returns W's entry, the k×m the rest
 * of the file must have, and whether the adapter belongs to another head than options.headHash:
 * the head-hash check comes first, so that an adapter of another head is stale whatever its shape.
 */
function checkIdentity(
  header: SafetensorsHeader,
  options: DecodeAdapterOptions,
  fail: Fail,
): { entry: TensorEntry; shape: AdapterShape; stale: boolean } {
  const { metadata, entries } = header;
  const { user } = options;
  if (metadata["format"] !== ADAPTER_FORMAT) {
    fail(`expected format "${ADAPTER_FORMAT}"`, "metadata.format");
  }
  if (metadata["format_version"] !== ADAPTER_FORMAT_VERSION) {
    fail(`expected format_version "${ADAPTER_FORMAT_VERSION}"`, "metadata.format_version");
  }
  if (metadata["user"] !== user) fail("the file belongs to a different user", "metadata.user");
  let W: TensorEntry | undefined;
  for (const entry of entries) {
    if (!TENSOR_NAMES.has(entry.name)) {
      const name = entry.name.slice(0, 64);
      fail(`unexpected tensor ${JSON.stringify(name)}`, name);
    }
    if (entry.name === "W") W = entry;
  }
  if (W === undefined) return fail("missing tensor W", ADAPTER_FIELDS.W);
  const [k, m] = W.shape as [number, number];
  if (W.dtype !== "F32" || W.shape.length !== 2 || !(k >= 1) || !(m >= 1)) {
    fail("expected W to be a 2-d F32 tensor of at least 1×1", ADAPTER_FIELDS.W);
  }
  const stale =
    options.headHash !== undefined && parseHeadHash(metadata, fail) !== options.headHash;
  if (stale) return { entry: W, shape: { k, m }, stale };
  if (k !== options.shape.k || m !== options.shape.m) {
    throw shapeMismatch(user, { k, m }, options.shape);
  }
  return { entry: W, shape: options.shape, stale };
}

function parseHeadHash(metadata: Record<string, string>, fail: Fail): string {
  const hash = metadata["head_hash"];
  if (hash === undefined || hash.length === 0)
    return fail("missing head_hash", ADAPTER_FIELDS.headHash);
  if (hash.length > MAX_HEAD_HASH_CHARS) {
    fail(`head hash longer than ${MAX_HEAD_HASH_CHARS} characters`, ADAPTER_FIELDS.headHash);
  }
  return hash;
}

function parseVersion(metadata: Record<string, string>, fail: Fail): number {
  const version = parseCount(metadata["version"], "version", fail);
  return version >= 1 ? version : fail("expected version ≥ 1", "metadata.version");
}

function sameShape(actual: readonly number[], expected: readonly number[]): boolean {
  return actual.length === expected.length && actual.every((size, i) => size === expected[i]);
}

type Fail = (detail: string, field?: string, cause?: unknown) => never;

function parseCount(text: string | undefined, name: string, fail: Fail): number {
  const field = `metadata.${name}`;
  if (text === undefined || !/^(0|[1-9][0-9]{0,15})$/.test(text)) {
    return fail(`expected ${name} to be a non-negative integer`, field);
  }
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : fail(`${name} is too large`, field);
}

function parseNumber(text: string | undefined, name: string, fail: Fail): number {
  const value = text === undefined || text.trim() === "" ? Number.NaN : Number(text);
  return Number.isFinite(value)
    ? value
    : fail(`expected ${name} to be a finite number`, `metadata.${name}`);
}

function parseTimestamp(text: string | undefined, name: string, fail: Fail): string {
  if (text === undefined || !Number.isFinite(Date.parse(text))) {
    return fail(`expected ${name} to be an ISO 8601 timestamp`, `metadata.${name}`);
  }
  return text;
}

function parseMetrics(text: string | undefined, fail: Fail): Record<string, number> {
  const field = ADAPTER_FIELDS.metrics;
  if (text === undefined) return fail("missing metrics", field);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return fail("metrics is not valid JSON", field);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return fail("expected metrics to be a JSON object of numbers", field);
  }
  return parsed as Record<string, number>;
}
