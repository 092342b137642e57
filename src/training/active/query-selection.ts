/**
 * Which comparisons to ask a user next, under a Gaussian belief N(w, Σ) about vec(W) (the Laplace
 * posterior of their fit, or the population prior).
 *
 * For a Bradley–Terry pair with z = vec(P(a) − P(b)) and p = σ(o + w·z), the answer's Fisher
 * information about W is p(1 − p)·z·zᵀ, and adding it to the precision raises log det by
 * log(1 + p(1 − p)·zᵀΣz): the expected information gain (D-optimality) is half that, in nats.
 *
 * - `information`: greedy on that gain; after each pick Σ takes the pick's information
 *   (Sherman–Morrison), so the next pick is scored given the earlier ones and the n pairs are
 *   not redundant. Each step costs O(pairs·p): every pair's zᵀΣz is updated in place.
 * - `uncertainty`: the pairs whose p_a is closest to ½ (ties: larger zᵀΣz), with no update.
 * - `random`: a seeded uniform draw without replacement.
 *
 * Whatever the strategy, each pick's gain is reported given the picks before it, so the gains of
 * one answer add up to the information of the whole list. p(1 − p) stays at the current w (the
 * answers are not known yet).
 */
import { sigmoid } from "../../math/logistic.js";
import { SeededRandom } from "../../math/random.js";

export type QueryStrategy = "information" | "uncertainty" | "random";

/** Texts grouped by candidate: candidate c holds texts offsets[c] … offsets[c + 1] − 1. */
export interface QueryPool {
  p: number;
  /** Base reward of each text. */
  base: Float64Array;
  /** T×p row-major: vec(P(x)) of each text. */
  proj: Float64Array;
  /** Length candidates + 1, non-decreasing, offsets[0] = 0. */
  offsets: Int32Array;
}

export interface QueryBelief {
  /** The current estimate of vec(W) (length p). */
  mean: Float64Array;
  /** p×p row-major, symmetric positive definite. */
  covariance: Float64Array;
}

export interface QueryPick {
  candidate: number;
  /** Response indices within the candidate, a < b. */
  a: number;
  b: number;
  /** ½·log(1 + p(1 − p)·zᵀΣz) under Σ updated by the picks before this one. */
  gain: number;
  /** σ(r(a) − r(b)) at the current mean. */
  pA: number;
}

export interface QueryOptions {
  n: number;
  strategy: QueryStrategy;
  /** Pairs not to ask, as pairKey(candidate, a, b) in either order. */
  exclude?: ReadonlySet<string>;
  seed?: number;
}

export function pairKey(candidate: number, a: number, b: number): string {
  return a < b ? `${candidate}:${a}:${b}` : `${candidate}:${b}:${a}`;
}

/** Every unordered pair of responses within each candidate, in candidate then (a, b) order. */
export class PairTable {
  readonly count: number;
  readonly candidate: Int32Array;
  readonly a: Int32Array;
  readonly b: Int32Array;
  /** count×p row-major: z = vec(P(a) − P(b)). */
  readonly z: Float64Array;
  /** base(a) − base(b). */
  readonly o: Float64Array;

  constructor(pool: QueryPool) {
    validatePool(pool);
    const { p, offsets } = pool;
    let count = 0;
    for (let c = 0; c + 1 < offsets.length; c++) {
      const r = offsets[c + 1]! - offsets[c]!;
      count += (r * (r - 1)) / 2;
    }
    this.count = count;
    this.candidate = new Int32Array(count);
    this.a = new Int32Array(count);
    this.b = new Int32Array(count);
    this.z = new Float64Array(count * p);
    this.o = new Float64Array(count);
    let j = 0;
    for (let c = 0; c + 1 < offsets.length; c++) {
      const start = offsets[c]!;
      const r = offsets[c + 1]! - start;
      for (let a = 0; a < r; a++) {
        for (let b = a + 1; b < r; b++, j++) {
          this.candidate[j] = c;
          this.a[j] = a;
          this.b[j] = b;
          this.o[j] = pool.base[start + a]! - pool.base[start + b]!;
          const ta = (start + a) * p;
          const tb = (start + b) * p;
          for (let i = 0; i < p; i++) this.z[j * p + i] = pool.proj[ta + i]! - pool.proj[tb + i]!;
        }
      }
    }
  }
}

/** The n pairs to ask, in asking order. Throws a RangeError when fewer than n pairs remain. */
export function selectQueries(
  pool: QueryPool,
  belief: QueryBelief,
  options: QueryOptions,
): QueryPick[] {
  const table = new PairTable(pool);
  const { p } = pool;
  validateBelief(belief, p);
  const { n, strategy } = options;
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new TypeError(`n: expected a positive integer, got ${String(n)}`);
  }
  if (strategy !== "information" && strategy !== "uncertainty" && strategy !== "random") {
    throw new TypeError(`strategy: expected information, uncertainty or random, got ${strategy}`);
  }
  const available = new Uint8Array(table.count).fill(1);
  let remaining = table.count;
  if (options.exclude !== undefined) {
    for (let j = 0; j < table.count; j++) {
      if (options.exclude.has(pairKey(table.candidate[j]!, table.a[j]!, table.b[j]!))) {
        available[j] = 0;
        remaining--;
      }
    }
  }
  if (n > remaining) {
    throw new RangeError(`n: ${n} pairs asked for, but only ${remaining} are left to ask`);
  }

  // p_a, the Fisher weight p(1 − p) and the predictive variance zᵀΣz of every pair.
  const pA = new Float64Array(table.count);
  const weight = new Float64Array(table.count);
  const variance = new Float64Array(table.count);
  const sigma = Float64Array.from(belief.covariance);
  const u = new Float64Array(p);
  for (let j = 0; j < table.count; j++) {
    const row = j * p;
    let logOdds = table.o[j]!;
    for (let i = 0; i < p; i++) logOdds += belief.mean[i]! * table.z[row + i]!;
    pA[j] = sigmoid(logOdds);
    weight[j] = pA[j]! * (1 - pA[j]!);
    variance[j] = quadratic(sigma, table.z, row, p, u);
  }

  const order =
    strategy === "information"
      ? null
      : strategy === "uncertainty"
        ? uncertaintyOrder(pA, variance, available, n)
        : randomOrder(available, remaining, n, options.seed ?? 0);
  const picks: QueryPick[] = [];
  for (let step = 0; step < n; step++) {
    let chosen = -1;
    if (order === null) {
      let best = Number.NEGATIVE_INFINITY;
      for (let j = 0; j < table.count; j++) {
        if (available[j] === 0) continue;
        const score = weight[j]! * variance[j]!;
        if (score > best) {
          best = score;
          chosen = j;
        }
      }
    } else {
      chosen = order[step]!;
    }
    available[chosen] = 0;
    const w = weight[chosen]!;
    const v = variance[chosen]!;
    picks.push({
      candidate: table.candidate[chosen]!,
      a: table.a[chosen]!,
      b: table.b[chosen]!,
      gain: 0.5 * Math.log1p(w * v),
      pA: pA[chosen]!,
    });
    if (step + 1 < n) absorb(sigma, table, chosen, w, v, variance, available, u);
  }
  return picks;
}

/** zᵀΣz for row `row` of z, with Σz left in `u`. */
function quadratic(
  sigma: Float64Array,
  z: Float64Array,
  row: number,
  p: number,
  u: Float64Array,
): number {
  let sum = 0;
  for (let i = 0; i < p; i++) {
    let s = 0;
    for (let k = 0; k < p; k++) s += sigma[i * p + k]! * z[row + k]!;
    u[i] = s;
    sum += z[row + i]! * s;
  }
  return sum;
}

/**
 * Σ ← Σ − c·u·uᵀ with u = Σz and c = w/(1 + w·zᵀΣz) (Sherman–Morrison for precision + w·z·zᵀ),
 * and every open pair's zⱼᵀΣzⱼ lowered by c·(zⱼ·u)².
 */
function absorb(
  sigma: Float64Array,
  table: PairTable,
  chosen: number,
  w: number,
  v: number,
  variance: Float64Array,
  available: Uint8Array,
  u: Float64Array,
): void {
  const p = u.length;
  quadratic(sigma, table.z, chosen * p, p, u);
  const c = w / (1 + w * v);
  for (let i = 0; i < p; i++) {
    for (let k = 0; k < p; k++) sigma[i * p + k] -= c * u[i]! * u[k]!;
  }
  for (let j = 0; j < table.count; j++) {
    if (available[j] === 0) continue;
    let s = 0;
    const row = j * p;
    for (let i = 0; i < p; i++) s += table.z[row + i]! * u[i]!;
    // Rounding must not make a variance negative.
    variance[j] = Math.max(0, variance[j]! - c * s * s);
  }
}

function uncertaintyOrder(
  pA: Float64Array,
  variance: Float64Array,
  available: Uint8Array,
  n: number,
): number[] {
  const open: number[] = [];
  for (let j = 0; j < pA.length; j++) if (available[j] !== 0) open.push(j);
  open.sort(
    (x, y) =>
      Math.abs(pA[x]! - 0.5) - Math.abs(pA[y]! - 0.5) || variance[y]! - variance[x]! || x - y,
  );
  return open.slice(0, n);
}

function randomOrder(available: Uint8Array, remaining: number, n: number, seed: number): number[] {
  const open = new Int32Array(remaining);
  let k = 0;
  for (let j = 0; j < available.length; j++) if (available[j] !== 0) open[k++] = j;
  const random = new SeededRandom(seed);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const pick = i + Math.floor(random.nextUnit() * (remaining - i));
    const t = open[i]!;
    open[i] = open[pick]!;
    open[pick] = t;
    out.push(open[i]!);
  }
  return out;
}

function validatePool(pool: QueryPool): void {
  const { p, base, proj, offsets } = pool;
  if (!Number.isSafeInteger(p) || p < 1) {
    throw new TypeError(`pool.p: expected a positive integer, got ${String(p)}`);
  }
  if (!(offsets instanceof Int32Array) || offsets.length < 1 || offsets[0] !== 0) {
    throw new TypeError("pool.offsets: expected an Int32Array starting at 0");
  }
  for (let c = 1; c < offsets.length; c++) {
    if (offsets[c]! < offsets[c - 1]!) {
      throw new TypeError(`pool.offsets[${c}]: expected a non-decreasing sequence`);
    }
  }
  const texts = offsets[offsets.length - 1]!;
  if (!(base instanceof Float64Array) || base.length !== texts) {
    throw new TypeError(`pool.base: expected a Float64Array of length ${texts}`);
  }
  if (!(proj instanceof Float64Array) || proj.length !== texts * p) {
    throw new TypeError(`pool.proj: expected a Float64Array of length ${texts * p}`);
  }
}

function validateBelief(belief: QueryBelief, p: number): void {
  if (!(belief.mean instanceof Float64Array) || belief.mean.length !== p) {
    throw new TypeError(`belief.mean: expected a Float64Array of length ${p}`);
  }
  if (!(belief.covariance instanceof Float64Array) || belief.covariance.length !== p * p) {
    throw new TypeError(`belief.covariance: expected a Float64Array of length ${p * p}`);
  }
}
