import { describe, expect, it } from "vitest";
import { logSigmoid } from "../../src/math/logistic.js";
import { SeededRandom } from "../../src/math/random.js";
import { fitWithCrossValidation } from "../../src/training/cross-validation.js";
import { fitLogistic, type PairStats, priorShape } from "../../src/training/logistic-fit.js";
import { fitWithEvidence, laplaceLogEvidence } from "../../src/training/prior-evidence.js";

function randomStats(n: number, p: number, seed: number, w: number[]): PairStats {
  const random = new SeededRandom(seed);
  const g = new Float64Array(n * p);
  const o = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let z = 0;
    for (let i = 0; i < p; i++) {
      g[j * p + i] = 2 * random.nextUnit() - 1;
      z += w[i]! * g[j * p + i]!;
    }
    // Orient each pair by a draw from its true Bradley–Terry probability.
    if (random.nextUnit() > 1 / (1 + Math.exp(-z))) {
      for (let i = 0; i < p; i++) g[j * p + i] = -g[j * p + i]!;
    }
  }
  return { g, o, n, p };
}

/** log ∫ Π σ(o_j + w·g_j) N(w; 0, 1/λ) dw in one dimension, by the trapezoid rule. */
function exactLogEvidence1d(stats: PairStats, lambda: number): number {
  const sd = 1 / Math.sqrt(lambda);
  const steps = 200_000;
  const lo = -40 * sd;
  const h = (80 * sd) / steps;
  let sum = 0;
  for (let s = 0; s <= steps; s++) {
    const w = lo + s * h;
    let ll = 0;
    for (let j = 0; j < stats.n; j++) ll += logSigmoid(stats.o[j]! + w * stats.g[j]!);
    const density = Math.exp(ll - (0.5 * w * w) / (sd * sd)) / (sd * Math.sqrt(2 * Math.PI));
    sum += (s === 0 || s === steps ? 0.5 : 1) * density;
  }
  return Math.log(sum * h);
}

describe("the Laplace evidence of an onboarding fit", () => {
  it("matches the exact marginal likelihood of a 1-d problem within 0.02 nats at 40 pairs", () => {
    const stats = randomStats(40, 1, 3, [1.5]);
    for (const lambda of [0.1, 1, 10]) {
      const fit = fitLogistic(stats, { kind: "isotropic", lambda });
      const laplace = laplaceLogEvidence(fit, priorShape({ kind: "isotropic" }, 1), lambda, 1);
      expect(Math.abs(laplace - exactLogEvidence1d(stats, lambda))).toBeLessThan(0.02);
    }
  });

  it("ranks prior strengths as the exact evidence does", () => {
    const stats = randomStats(40, 1, 4, [0.8]);
    const grid = [0.03, 0.3, 3, 30];
    const exact = grid.map((l) => exactLogEvidence1d(stats, l));
    const chosen = fitWithEvidence(stats, { kind: "isotropic" }, { grid, centre: null });
    expect(chosen.evidence!.value).toBe(grid[exact.indexOf(Math.max(...exact))]);
  });

  it("does not collapse the prior on a few separable pairs, where cross-validation does", () => {
    const p = 4;
    const n = 8;
    const random = new SeededRandom(9);
    const g = new Float64Array(n * p);
    for (let j = 0; j < n; j++) {
      g[j * p] = 0.5 + random.nextUnit();
      for (let i = 1; i < p; i++) g[j * p + i] = 0.3 * (2 * random.nextUnit() - 1);
    }
    const stats = { g, o: new Float64Array(n), n, p };
    const cov = new Float64Array(p * p);
    for (let i = 0; i < p; i++) cov[i * p + i] = 1;
    const family = { kind: "population" as const, mean: new Float64Array(p), cov };
    expect((fitWithCrossValidation(stats, family).prior as { tau: number }).tau).toBe(0.01);
    const evidence = fitWithEvidence(stats, family);
    expect((evidence.prior as { tau: number }).tau).toBeGreaterThanOrEqual(0.3);
    // Pairs that all point one way are the case the hyperprior is for: the plain evidence of
    // such a set keeps rising as the prior weakens, so without it τ would go to the floor too.
    const plain = fitWithEvidence(stats, family, { centre: null });
    expect((plain.prior as { tau: number }).tau).toBe(0.01);
  });

  it("keeps a strength given by the client", () => {
    const stats = randomStats(10, 2, 5, [1, -1]);
    const fit = fitWithEvidence(stats, { kind: "isotropic", lambda: 2.5 });
    expect(fit.evidence).toBeNull();
    expect(fit.prior).toEqual({ kind: "isotropic", lambda: 2.5 });
    expect(Array.from(fit.fit.w)).toEqual(
      Array.from(fitLogistic(stats, { kind: "isotropic", lambda: 2.5 }).w),
    );
  });
});
