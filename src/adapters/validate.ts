import { AdapterError } from "./errors.js";
import type { AdapterDraft, AdapterShape, AdapterUpdate } from "./types.js";

export const MAX_HEAD_HASH_CHARS = 256;

export interface ContentCheck {
  user: string;
  shape: AdapterShape;
  /** ADAPTER_CORRUPT for stored files, INVALID_ADAPTER for what callers hand in. */
  invalidCode: "ADAPTER_CORRUPT" | "INVALID_ADAPTER";
}

/** Throws unless the adapter fits the head's k×m and every number in it is finite and in range. */
export function checkAdapterContent(draft: AdapterDraft, check: ContentCheck): void {
  const fail = failWith(check);
  checkWeights(draft, check);
  const p = draft.k * draft.m;
  if (!Number.isSafeInteger(draft.nPairs) || draft.nPairs < 0) {
    fail(`expected nPairs to be a non-negative integer, got ${String(draft.nPairs)}`);
  }
  checkMetrics(draft.metrics, fail);
  if (draft.posterior !== undefined) {
    const { cholesky, lambda } = draft.posterior;
    checkFloats(cholesky, Float64Array, p * p, "posterior Cholesky factor", fail);
    for (let i = 0; i < p; i++) {
      if (!(cholesky[i * p + i]! > 0)) fail(`posterior Cholesky diagonal ${i} is not positive`);
      for (let j = i + 1; j < p; j++) {
        if (cholesky[i * p + j] !== 0) fail("posterior Cholesky factor is not lower-triangular");
      }
    }
    if (!Number.isFinite(lambda) || lambda <= 0) {
      fail(`expected a positive finite posterior lambda, got ${String(lambda)}`);
    }
  }
  if (draft.pairs !== undefined) {
    const n = draft.pairs.o instanceof Float32Array ? draft.pairs.o.length : -1;
    if (n < 0) fail("expected pairs.o to be a Float32Array");
    checkFloats(draft.pairs.o, Float32Array, n, "pairs.o", fail);
    checkFloats(draft.pairs.g, Float32Array, n * p, "pairs.g", fail);
  }
}

/** The checks of checkAdapterContent that concern W and the head it belongs to. */
export function checkWeights(
  weights: Pick<AdapterDraft, "k" | "m" | "headHash" | "W">,
  check: ContentCheck,
): void {
  const fail = failWith(check);
  const { k, m } = weights;
  if (!isPositiveInt(k) || !isPositiveInt(m)) {
    fail(`expected positive integer k and m, got k=${String(k)}, m=${String(m)}`);
  }
  if (k !== check.shape.k || m !== check.shape.m) {
    throw new AdapterError(
      "ADAPTER_SHAPE_MISMATCH",
      `adapter of user ${check.user} is ${k}×${m}, the head expects ${check.shape.k}×${check.shape.m}`,
      { user: check.user },
    );
  }
  if (typeof weights.headHash !== "string" || weights.headHash.length === 0) {
    fail("expected a non-empty head hash");
  }
  if (weights.headHash.length > MAX_HEAD_HASH_CHARS) {
    fail(`head hash longer than ${MAX_HEAD_HASH_CHARS} characters`);
  }
  checkFloats(weights.W, Float32Array, k * m, "W", fail);
}

function failWith(check: ContentCheck): (detail: string) => never {
  return (detail) => {
    throw new AdapterError(check.invalidCode, `adapter of user ${check.user}: ${detail}`, {
      user: check.user,
    });
  };
}

export function assertAdapterShape(shape: unknown): asserts shape is AdapterShape {
  const { k, m } = (shape ?? {}) as Partial<AdapterShape>;
  if (!isPositiveInt(k) || !isPositiveInt(m)) {
    throw new TypeError(`expected shape {k, m} of positive integers, got ${JSON.stringify(shape)}`);
  }
}

function isPositiveInt(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value > 0;
}

function checkFloats(
  values: unknown,
  type: Float32ArrayConstructor | Float64ArrayConstructor,
  length: number,
  name: string,
  fail: (detail: string) => never,
): void {
  if (!(values instanceof type)) fail(`expected ${name} to be a ${type.name}`);
  const array = values as Float32Array | Float64Array;
  if (array.length !== length) {
    fail(`expected ${name} to hold ${length} values, got ${array.length}`);
  }
  for (let i = 0; i < array.length; i++) {
    if (!Number.isFinite(array[i]!)) fail(`${name} has a non-finite value at index ${i}`);
  }
}

function checkMetrics(metrics: unknown, fail: (detail: string) => never): void {
  if (typeof metrics !== "object" || metrics === null || Array.isArray(metrics)) {
    fail("expected metrics to be an object of numbers");
  }
  for (const [name, value] of Object.entries(metrics as object)) {
    if (typeof value !== "number" || !Number.isFinite(value)) {
      fail(`metric ${JSON.stringify(name)} is not a finite number`);
    }
  }
}

/** Throws INVALID_ADAPTER when an encoded adapter is larger than the store takes. */
export function assertEncodedSize(user: string, bytes: Uint8Array, maxBytes: number): void {
  if (bytes.byteLength > maxBytes) {
    throw new AdapterError(
      "INVALID_ADAPTER",
      `adapter of user ${user} needs ${bytes.byteLength} bytes, more than the ${maxBytes} allowed`,
      { user },
    );
  }
}

export function assertUpdateFunction(update: unknown): asserts update is AdapterUpdate {
  if (typeof update !== "function") {
    throw new TypeError("expected update to be a function of the current adapter");
  }
}
