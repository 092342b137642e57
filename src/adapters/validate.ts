import { AdapterError } from "./errors.js";
import type { AdapterDraft, AdapterShape, AdapterUpdate } from "./types.js";

export const MAX_HEAD_HASH_CHARS = 256;

/**
 * What an adapter may hold. Real fits stay far inside: on the default model, fits of 2 to 256
 * pairs at every prior strength from 1e-3 to 100 gave |W| ≤ 18, |g| ≤ 1.6, |o| ≤ 9.3, a posterior
 * Cholesky diagonal in [0.013, 5.1] with max/min ≤ 5.3 and κ_F(L) ≤ 22, and |metric| ≤ 76. The
 * bounds on W, g and o leave room for backbones whose features are on another scale (W·g is what
 * is scale-free) and still keep every product and sum finite; those on the Cholesky factor keep
 * σ(x) = ‖L⁻¹x‖ finite and meaningful for pessimism.
 */
export const ADAPTER_BOUNDS = {
  /** |W[i]| */
  weight: 1e6,
  /** |g[j, a]| and |o[j]| of the stored pairs */
  pairValue: 1e6,
  /** |metric| */
  metric: 1e15,
  /** the posterior's prior strength λ, within [1/lambda, lambda] */
  lambda: 1e12,
  /**
   * The least diagonal entry of the posterior Cholesky factor L. No ceiling: a sharp population
   * prior estimated from few training users gives `sharelora fit`'s adapters diagonals of 10¹³
   * and more, and a large L only makes σ small.
   */
  choleskyDiagonalFloor: 1e-8,
  /** max diag / min diag of L, and κ_F(L) = ‖L‖_F·‖L⁻¹‖_F (≥ the 2-norm condition number) */
  condition: 1e8,
} as const;

/** Tensor and metadata names of the file format, for the `field` of an error. */
export const ADAPTER_FIELDS = {
  W: "W",
  cholesky: "posterior_cholesky",
  g: "pairs_g",
  o: "pairs_o",
  lambda: "metadata.lambda",
  nPairs: "metadata.n_pairs",
  metrics: "metadata.metrics",
  headHash: "metadata.head_hash",
} as const;

export interface ContentCheck {
  user: string;
  /** The k×m the adapter must have: the head's, or (for an adapter of another head) its own. */
  shape: AdapterShape;
  /** ADAPTER_CORRUPT for stored files, INVALID_ADAPTER for what callers hand in. */
  invalidCode: "ADAPTER_CORRUPT" | "INVALID_ADAPTER";
}

type Fail = (detail: string, field?: string) => never;

/** Throws unless the adapter fits the head's k×m and every number in it is finite and in range. */
export function checkAdapterContent(draft: AdapterDraft, check: ContentCheck): void {
  const fail = failWith(check);
  checkWeights(draft, check);
  const p = draft.k * draft.m;
  if (!Number.isSafeInteger(draft.nPairs) || draft.nPairs < 0) {
    fail(
      `expected nPairs to be a non-negative integer, got ${String(draft.nPairs)}`,
      ADAPTER_FIELDS.nPairs,
    );
  }
  checkMetrics(draft.metrics, fail);
  if (draft.posterior !== undefined) {
    const { cholesky, lambda } = draft.posterior;
    checkFloats(
      cholesky,
      Float64Array,
      p * p,
      "posterior Cholesky factor",
      ADAPTER_FIELDS.cholesky,
      fail,
    );
    checkCholesky(cholesky, p, (detail) => fail(detail, ADAPTER_FIELDS.cholesky));
    const bound = ADAPTER_BOUNDS.lambda;
    if (!Number.isFinite(lambda) || !(lambda >= 1 / bound && lambda <= bound)) {
      fail(
        `expected a posterior lambda in [${1 / bound}, ${bound}], got ${String(lambda)}`,
        ADAPTER_FIELDS.lambda,
      );
    }
  }
  if (draft.pairs !== undefined) {
    const n = draft.pairs.o instanceof Float32Array ? draft.pairs.o.length : -1;
    if (n < 0) fail("expected pairs.o to be a Float32Array", ADAPTER_FIELDS.o);
    checkFloats(draft.pairs.o, Float32Array, n, "pairs.o", ADAPTER_FIELDS.o, fail);
    checkFloats(draft.pairs.g, Float32Array, n * p, "pairs.g", ADAPTER_FIELDS.g, fail);
    checkRange(draft.pairs.o, ADAPTER_BOUNDS.pairValue, "pairs.o", ADAPTER_FIELDS.o, fail);
    checkRange(draft.pairs.g, ADAPTER_BOUNDS.pairValue, "pairs.g", ADAPTER_FIELDS.g, fail);
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
    fail(`expected positive integer k and m, got k=${String(k)}, m=${String(m)}`, ADAPTER_FIELDS.W);
  }
  if (k !== check.shape.k || m !== check.shape.m)
    throw shapeMismatch(check.user, { k, m }, check.shape);
  if (typeof weights.headHash !== "string" || weights.headHash.length === 0) {
    fail("expected a non-empty head hash", ADAPTER_FIELDS.headHash);
  }
  if (weights.headHash.length > MAX_HEAD_HASH_CHARS) {
    fail(`head hash longer than ${MAX_HEAD_HASH_CHARS} characters`, ADAPTER_FIELDS.headHash);
  }
  checkFloats(weights.W, Float32Array, k * m, "W", ADAPTER_FIELDS.W, fail);
  checkRange(weights.W, ADAPTER_BOUNDS.weight, "W", ADAPTER_FIELDS.W, fail);
}

/** An adapter of the head's own hash whose k×m is not the head's. */
export function shapeMismatch(
  user: string,
  actual: AdapterShape,
  expected: AdapterShape,
): AdapterError {
  return new AdapterError(
    "ADAPTER_SHAPE_MISMATCH",
    `adapter of user ${user} is ${actual.k}×${actual.m}, the head expects ${expected.k}×${expected.m}`,
    { user, field: ADAPTER_FIELDS.W },
  );
}

/**
 * A posterior factor that pessimism can use: lower-triangular with a diagonal of at least
 * choleskyDiagonalFloor, a diagonal ratio (a lower bound on its condition number) and
 * κ_F(L) = ‖L‖_F·‖L⁻¹‖_F both within the condition bound, so that L⁻¹ and with it every
 * σ(x) = ‖L⁻¹x‖ are finite. L⁻¹ costs p³/6 multiply-adds: 11 for the default head.
 */
function checkCholesky(cholesky: Float64Array, p: number, fail: (detail: string) => never): void {
  const { choleskyDiagonalFloor, condition } = ADAPTER_BOUNDS;
  let minDiagonal = Number.POSITIVE_INFINITY;
  let maxDiagonal = 0;
  let squares = 0;
  for (let i = 0; i < p; i++) {
    const diagonal = cholesky[i * p + i]!;
    if (!(diagonal >= choleskyDiagonalFloor)) {
      fail(`posterior Cholesky diagonal ${i} is ${diagonal}, below ${choleskyDiagonalFloor}`);
    }
    minDiagonal = Math.min(minDiagonal, diagonal);
    maxDiagonal = Math.max(maxDiagonal, diagonal);
    for (let j = 0; j < i; j++) {
      const entry = cholesky[i * p + j]!;
      squares += entry * entry;
    }
    for (let j = i + 1; j < p; j++) {
      if (cholesky[i * p + j] !== 0) fail("posterior Cholesky factor is not lower-triangular");
    }
    squares += diagonal * diagonal;
  }
  if (maxDiagonal / minDiagonal > condition) {
    fail(
      `posterior Cholesky factor is ill-conditioned: its diagonal spans ${minDiagonal} to ${maxDiagonal}, a ratio above ${condition}`,
    );
  }
  const inverseSquares = lowerInverseSquares(cholesky, p);
  const kappa = Math.sqrt(squares) * Math.sqrt(inverseSquares);
  if (!Number.isFinite(inverseSquares)) fail("posterior Cholesky factor has no finite inverse");
  if (!(kappa <= condition)) {
    fail(
      `posterior Cholesky factor is ill-conditioned: ‖L‖·‖L⁻¹‖ = ${kappa.toPrecision(3)}, above ${condition}`,
    );
  }
}

/** ‖L⁻¹‖_F² by forward substitution, column by column; Infinity as soon as it overflows. */
function lowerInverseSquares(l: Float64Array, p: number): number {
  const column = new Float64Array(p);
  let sum = 0;
  for (let j = 0; j < p; j++) {
    for (let i = j; i < p; i++) {
      let s = i === j ? 1 : 0;
      for (let t = j; t < i; t++) s -= l[i * p + t]! * column[t]!;
      const value = s / l[i * p + i]!;
      if (!Number.isFinite(value)) return Number.POSITIVE_INFINITY;
      column[i] = value;
      sum += value * value;
    }
  }
  return sum;
}

function failWith(check: ContentCheck): Fail {
  return (detail, field) => {
    throw new AdapterError(check.invalidCode, `adapter of user ${check.user}: ${detail}`, {
      user: check.user,
      field,
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
  field: string,
  fail: Fail,
): void {
  if (!(values instanceof type)) fail(`expected ${name} to be a ${type.name}`, field);
  const array = values as Float32Array | Float64Array;
  if (array.length !== length) {
    fail(`expected ${name} to hold ${length} values, got ${array.length}`, field);
  }
  for (let i = 0; i < array.length; i++) {
    if (!Number.isFinite(array[i]!)) fail(`${name} has a non-finite value at index ${i}`, field);
  }
}

function checkRange(
  values: Float32Array | Float64Array,
  bound: number,
  name: string,
  field: string,
  fail: Fail,
): void {
  for (let i = 0; i < values.length; i++) {
    if (Math.abs(values[i]!) > bound) {
      fail(`${name} has ${values[i]} at index ${i}, beyond ±${bound}`, field);
    }
  }
}

function checkMetrics(metrics: unknown, fail: Fail): void {
  if (typeof metrics !== "object" || metrics === null || Array.isArray(metrics)) {
    fail("expected metrics to be an object of numbers", ADAPTER_FIELDS.metrics);
  }
  for (const [name, value] of Object.entries(metrics as object)) {
    if (typeof value !== "number" || !Number.isFinite(value)) {
      fail(`metric ${JSON.stringify(name)} is not a finite number`, ADAPTER_FIELDS.metrics);
    }
    if (Math.abs(value) > ADAPTER_BOUNDS.metric) {
      fail(
        `metric ${JSON.stringify(name)} is ${value}, beyond ±${ADAPTER_BOUNDS.metric}`,
        ADAPTER_FIELDS.metrics,
      );
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

/** Throws INVALID_ADAPTER when an adapter keeps more pairs than the server's --max-stored-pairs. */
export function assertStoredPairs(
  user: string,
  draft: Pick<AdapterDraft, "pairs">,
  maxStoredPairs: number,
): void {
  const n = draft.pairs?.o.length ?? 0;
  if (n > maxStoredPairs) {
    throw new AdapterError(
      "INVALID_ADAPTER",
      `adapter of user ${user} holds ${n} stored pairs, more than the ${maxStoredPairs} this server keeps per user (--max-stored-pairs)`,
      { user, field: ADAPTER_FIELDS.o },
    );
  }
}

export function assertUpdateFunction(update: unknown): asserts update is AdapterUpdate {
  if (typeof update !== "function") {
    throw new TypeError("expected update to be a function of the current adapter");
  }
}
