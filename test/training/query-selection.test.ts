import { describe, expect, it } from "vitest";
import { choleskyInPlace, logDetFromCholesky } from "../../src/math/linalg.js";
import { sigmoid } from "../../src/math/logistic.js";
import { SeededRandom } from "../../src/math/random.js";
import {
  pairKey,
  type QueryBelief,
  type QueryPool,
  selectQueries,
} from "../../src/training/active/query-selection.js";

function randomPool(seed: number, sizes: number[], p: number): QueryPool {
  const random = new SeededRandom(seed);
  const offsets = new Int32Array(sizes.length + 1);
  sizes.forEach((s, i) => {
    offsets[i + 1] = offsets[i]! + s;
  });
  const texts = offsets[sizes.length]!;
  const base = Float64Array.from({ length: texts }, () => 2 * random.gaussian());
  const proj = Float64Array.from({ length: texts * p }, () => random.gaussian());
  return { p, base, proj, offsets };
}

function randomBelief(seed: number, p: number): QueryBelief {
  const random = new SeededRandom(seed);
  const a = Float64Array.from({ length: p * p }, () => random.gaussian());
  const covariance = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j < p; j++) {
      let s = i === j ? 0.1 : 0;
      for (let k = 0; k < p; k++) s += a[i * p + k]! * a[j * p + k]!;
      covariance[i * p + j] = s / p;
    }
  }
  return { mean: Float64Array.from({ length: p }, () => random.gaussian()), covariance };
}

/** Every (candidate, a < b) pair, with z, o. */
function allPairs(pool: QueryPool) {
  const out: { candidate: number; a: number; b: number; z: number[]; o: number }[] = [];
  for (let c = 0; c + 1 < pool.offsets.length; c++) {
    const start = pool.offsets[c]!;
    const r = pool.offsets[c + 1]! - start;
    for (let a = 0; a < r; a++) {
      for (let b = a + 1; b < r; b++) {
        const z = Array.from({ length: pool.p }, (_, i) => {
          return pool.proj[(start + a) * pool.p + i]! - pool.proj[(start + b) * pool.p + i]!;
        });
        out.push({ candidate: c, a, b, z, o: pool.base[start + a]! - pool.base[start + b]! });
      }
    }
  }
  return out;
}

/** log det of a precision matrix, from scratch. */
function logDet(matrix: Float64Array, p: number): number {
  return logDetFromCholesky(choleskyInPlace(Float64Array.from(matrix), p), p);
}

function inverse(matrix: Float64Array, p: number): Float64Array {
  // Gauss–Jordan, independent of the library's Cholesky code.
  const a = Array.from({ length: p }, (_, i) => [
    ...Array.from(matrix.subarray(i * p, (i + 1) * p)),
    ...Array.from({ length: p }, (_, j) => (i === j ? 1 : 0)),
  ]);
  for (let c = 0; c < p; c++) {
    let pivot = c;
    for (let r = c + 1; r < p; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[pivot]![c]!)) pivot = r;
    [a[c], a[pivot]] = [a[pivot]!, a[c]!];
    const d = a[c]![c]!;
    for (let j = 0; j < 2 * p; j++) a[c]![j]! /= d;
    for (let r = 0; r < p; r++) {
      if (r === c) continue;
      const f = a[r]![c]!;
      for (let j = 0; j < 2 * p; j++) a[r]![j]! -= f * a[c]![j]!;
    }
  }
  return Float64Array.from(a.flatMap((row) => row.slice(p)));
}

describe("choosing the comparisons to ask", () => {
  it("greedy information gain equals a brute-force search over log det of the precision, step by step", () => {
    for (const [seed, sizes, p, n] of [
      [1, [3, 4], 2, 4],
      [2, [2, 3, 5], 4, 6],
      [3, [6], 3, 5],
      [4, [4, 4, 4], 4, 8],
    ] as const) {
      const pool = randomPool(seed, [...sizes], p);
      const belief = randomBelief(seed + 100, p);
      const picks = selectQueries(pool, belief, { n, strategy: "information" });
      const pairs = allPairs(pool);
      const precision = inverse(belief.covariance, p);
      const taken = new Set<string>();
      for (const pick of picks) {
        const before = logDet(precision, p);
        let best = { gain: Number.NEGATIVE_INFINITY, key: "", update: new Float64Array(0) };
        for (const pair of pairs) {
          const key = pairKey(pair.candidate, pair.a, pair.b);
          if (taken.has(key)) continue;
          let logOdds = pair.o;
          for (let i = 0; i < p; i++) logOdds += belief.mean[i]! * pair.z[i]!;
          const w = sigmoid(logOdds) * (1 - sigmoid(logOdds));
          const next = Float64Array.from(precision);
          for (let i = 0; i < p; i++)
            for (let j = 0; j < p; j++) next[i * p + j] += w * pair.z[i]! * pair.z[j]!;
          const gain = 0.5 * (logDet(next, p) - before);
          if (gain > best.gain + 1e-12) best = { gain, key, update: next };
        }
        expect(pairKey(pick.candidate, pick.a, pick.b)).toBe(best.key);
        expect(pick.gain).toBeCloseTo(best.gain, 10);
        taken.add(best.key);
        precision.set(best.update);
      }
    }
  });

  it("never repeats a pair, respects exclude in either order, and refuses n beyond what is left", () => {
    const pool = randomPool(7, [4, 3, 5], 4);
    const belief = randomBelief(8, 4);
    const exclude = new Set([pairKey(0, 2, 1), pairKey(2, 4, 0), pairKey(1, 0, 2)]);
    const total = 6 + 3 + 10;
    for (const strategy of ["information", "uncertainty", "random"] as const) {
      const picks = selectQueries(pool, belief, { n: total - 3, strategy, exclude, seed: 5 });
      const keys = picks.map((q) => pairKey(q.candidate, q.a, q.b));
      expect(new Set(keys).size).toBe(total - 3);
      for (const key of exclude) expect(keys).not.toContain(key);
      for (const q of picks) expect(q.a).toBeLessThan(q.b);
      expect(() =>
        selectQueries(pool, belief, { n: total - 2, strategy, exclude, seed: 5 }),
      ).toThrow(RangeError);
    }
  });

  it("uncertainty takes the pairs with p_a nearest ½; random is reproducible by seed", () => {
    const pool = randomPool(11, [5, 5], 2);
    const belief = randomBelief(12, 2);
    const all = selectQueries(pool, belief, { n: 20, strategy: "uncertainty" });
    const distances = all.map((q) => Math.abs(q.pA - 0.5));
    expect(distances).toEqual([...distances].sort((a, b) => a - b));
    const first = selectQueries(pool, belief, { n: 6, strategy: "random", seed: 3 });
    const again = selectQueries(pool, belief, { n: 6, strategy: "random", seed: 3 });
    const other = selectQueries(pool, belief, { n: 6, strategy: "random", seed: 4 });
    expect(again).toEqual(first);
    expect(other).not.toEqual(first);
  });

  it("reports each pick's gain given the picks before it, whatever the strategy", () => {
    const pool = randomPool(21, [4, 4], 3);
    const belief = randomBelief(22, 3);
    const picks = selectQueries(pool, belief, { n: 5, strategy: "random", seed: 9 });
    const precision = inverse(belief.covariance, 3);
    const pairs = allPairs(pool);
    for (const pick of picks) {
      const pair = pairs.find(
        (q) => q.candidate === pick.candidate && q.a === pick.a && q.b === pick.b,
      )!;
      const w = pick.pA * (1 - pick.pA);
      const before = logDet(precision, 3);
      for (let i = 0; i < 3; i++)
        for (let j = 0; j < 3; j++) precision[i * 3 + j] += w * pair.z[i]! * pair.z[j]!;
      expect(pick.gain).toBeCloseTo(0.5 * (logDet(precision, 3) - before), 10);
    }
  });
});
