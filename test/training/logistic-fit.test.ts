import { describe, expect, it } from "vitest";
import { SeededRandom } from "../../src/math/random.js";
import {
  crossValidatePrior,
  DEFAULT_LAMBDA_GRID,
  DEFAULT_TAU_GRID,
  fitWithCrossValidation,
} from "../../src/training/cross-validation.js";
import {
  DEFAULT_COVARIANCE_RIDGE,
  type FitResult,
  fitLogistic,
  globalAccuracy,
  type PairStats,
  type Prior,
  posteriorStd,
} from "../../src/training/logistic-fit.js";
import { plantedPairs } from "../../src/training/planted.js";

/** Agreement between the solver and the independent reference optimum. */
const REFERENCE_TOLERANCE = 1e-6;

type Matrix = number[][];

// ---------- Independent float64 reference: plain Newton, no line search, naive algebra ----------

function rows(stats: PairStats): Matrix {
  return Array.from({ length: stats.n }, (_, j) =>
    Array.from(stats.g.subarray(j * stats.p, (j + 1) * stats.p)),
  );
}

function solveDense(a: Matrix, b: number[]): number[] {
  const p = a.length;
  const m = a.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < p; c++) {
    let pivot = c;
    for (let r = c + 1; r < p; r++) if (Math.abs(m[r][c]) > Math.abs(m[pivot][c])) pivot = r;
    [m[c], m[pivot]] = [m[pivot], m[c]];
    for (let r = c + 1; r < p; r++) {
      const f = m[r][c] / m[c][c];
      for (let k = c; k <= p; k++) m[r][k] -= f * m[c][k];
    }
  }
  const x = new Array<number>(p).fill(0);
  for (let r = p - 1; r >= 0; r--) {
    let s = m[r][p];
    for (let k = r + 1; k < p; k++) s -= m[r][k] * x[k];
    x[r] = s / m[r][r];
  }
  return x;
}

function invertDense(a: Matrix): Matrix {
  const p = a.length;
  const columns = a.map((_, j) =>
    solveDense(
      a,
      a.map((_, i) => (i === j ? 1 : 0)),
    ),
  );
  return Array.from({ length: p }, (_, i) => Array.from({ length: p }, (_, j) => columns[j][i]));
}

interface ReferencePrior {
  precision: Matrix;
  mean: number[];
}

function referencePrior(prior: Prior, p: number): ReferencePrior {
  if (prior.kind === "isotropic") {
    return {
      precision: Array.from({ length: p }, (_, i) =>
        Array.from({ length: p }, (_, j) => (i === j ? prior.lambda : 0)),
      ),
      mean: new Array<number>(p).fill(0),
    };
  }
  const cov = Array.from({ length: p }, (_, i) =>
    Array.from(prior.cov.subarray(i * p, (i + 1) * p)),
  );
  const epsilon = (DEFAULT_COVARIANCE_RIDGE * cov.reduce((s, row, i) => s + row[i], 0)) / p;
  const inverse = invertDense(cov.map((row, i) => row.map((v, j) => v + (i === j ? epsilon : 0))));
  return {
    precision: inverse.map((row) => row.map((v) => prior.tau * v)),
    mean: Array.from(prior.mean),
  };
}

function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

function objective(stats: PairStats, prior: ReferencePrior, w: ArrayLike<number>): number {
  const g = rows(stats);
  let value = 0;
  for (let j = 0; j < stats.n; j++) {
    const z = stats.o[j] + g[j].reduce((s, v, i) => s + v * w[i], 0);
    value += -Math.log(1 + Math.exp(-z));
  }
  const d = prior.mean.map((m, i) => w[i] - m);
  const quadratic = d.reduce(
    (s, di, i) => s + di * prior.precision[i].reduce((t, v, k) => t + v * d[k], 0),
    0,
  );
  return value - 0.5 * quadratic;
}

function gradientAndHessian(
  stats: PairStats,
  prior: ReferencePrior,
  w: ArrayLike<number>,
): { gradient: number[]; hessian: Matrix } {
  const p = stats.p;
  const g = rows(stats);
  const d = prior.mean.map((m, i) => w[i] - m);
  const gradient = prior.precision.map((row) => -row.reduce((s, v, k) => s + v * d[k], 0));
  const hessian = prior.precision.map((row) => [...row]);
  for (let j = 0; j < stats.n; j++) {
    const s = sigmoid(stats.o[j] + g[j].reduce((t, v, i) => t + v * w[i], 0));
    for (let a = 0; a < p; a++) {
      gradient[a] += (1 - s) * g[j][a];
      for (let b = 0; b < p; b++) hessian[a][b] += s * (1 - s) * g[j][a] * g[j][b];
    }
  }
  return { gradient, hessian };
}

function referenceNewton(stats: PairStats, prior: ReferencePrior): number[] {
  let w = [...prior.mean];
  for (let iteration = 0; iteration < 60; iteration++) {
    const { gradient, hessian } = gradientAndHessian(stats, prior, w);
    const step = solveDense(hessian, gradient);
    w = w.map((v, i) => v + step[i]);
  }
  return w;
}

// ---------- Helpers ----------

function distance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
}

function norm(a: ArrayLike<number>): number {
  return distance(a, new Float64Array(a.length));
}

function accuracy(stats: PairStats, w: ArrayLike<number>): number {
  let correct = 0;
  for (let j = 0; j < stats.n; j++) {
    let z = stats.o[j];
    for (let i = 0; i < stats.p; i++) z += w[i] * stats.g[j * stats.p + i];
    if (z > 0) correct++;
  }
  return correct / stats.n;
}

function heldOutLogLikelihood(stats: PairStats, indices: number[], w: ArrayLike<number>): number {
  let total = 0;
  for (const j of indices) {
    let z = stats.o[j];
    for (let i = 0; i < stats.p; i++) z += w[i] * stats.g[j * stats.p + i];
    total += -Math.log1p(Math.exp(-z));
  }
  return total;
}

function subset(stats: PairStats, indices: number[]): PairStats {
  const { p } = stats;
  const g = new Float64Array(indices.length * p);
  indices.forEach((j, r) => {
    g.set(stats.g.subarray(j * p, (j + 1) * p), r * p);
  });
  return { g, o: Float64Array.from(indices, (j) => stats.o[j]), n: indices.length, p };
}

function mean(values: number[]): number {
  return values.reduce((s, v) => s + v, 0) / values.length;
}

function populationPrior(p: number, mu: Float64Array, variance: number, tau: number): Prior {
  const cov = new Float64Array(p * p);
  const random = new SeededRandom(77);
  // A correlated, full-rank covariance so the population path is not just a scaled identity.
  const u = Float64Array.from({ length: p }, () => random.gaussian() / Math.sqrt(p));
  for (let i = 0; i < p; i++) {
    for (let j = 0; j < p; j++) cov[i * p + j] = variance * ((i === j ? 1 : 0) + u[i] * u[j]);
  }
  return { kind: "population", mean: mu, cov, tau };
}

// ---------- Tests ----------

describe("fitLogistic agrees with an independent float64 reference", () => {
  const p = 6;
  const data = plantedPairs({ p, n: 40, seed: 11 });
  const random = new SeededRandom(5);
  const mu = Float64Array.from({ length: p }, () => random.gaussian());
  const priors: [string, Prior][] = [
    ["isotropic", { kind: "isotropic", lambda: 0.5 }],
    ["population", populationPrior(p, mu, 0.7, 2)],
  ];

  it.each(priors)("%s prior: optimum, gradient, maximality, likelihood, posterior", (_, prior) => {
    const fit = fitLogistic(data.stats, prior);
    const reference = referencePrior(prior, p);
    const expected = referenceNewton(data.stats, reference);
    expect(fit.converged).toBe(true);
    expect(distance(fit.w, expected) / Math.max(1, norm(expected))).toBeLessThan(
      REFERENCE_TOLERANCE,
    );

    const { gradient, hessian } = gradientAndHessian(data.stats, reference, fit.w);
    expect(norm(gradient)).toBeLessThan(1e-7);
    expect(fit.gradNorm).toBeLessThan(1e-7);

    const best = objective(data.stats, reference, fit.w);
    const perturbation = new SeededRandom(9);
    for (let trial = 0; trial < 20; trial++) {
      const scale = 10 ** -(1 + (trial % 4));
      const moved = Float64Array.from(fit.w, (v) => v + scale * perturbation.gaussian());
      expect(objective(data.stats, reference, moved)).toBeLessThan(best);
    }

    const logLikelihood = objective(
      data.stats,
      { precision: reference.precision.map((r) => r.map(() => 0)), mean: reference.mean },
      fit.w,
    );
    expect(Math.abs(fit.logLikelihood - logLikelihood)).toBeLessThan(
      1e-9 * Math.abs(logLikelihood),
    );
    expect(fit.trainAccuracy).toBe(accuracy(data.stats, fit.w));

    const inverse = invertDense(hessian);
    for (let trial = 0; trial < 5; trial++) {
      const x = Float64Array.from({ length: p }, () => perturbation.gaussian());
      const variance = inverse.reduce(
        (s, row, i) => s + x[i] * row.reduce((t, v, k) => t + v * x[k], 0),
        0,
      );
      expect(Math.abs(posteriorStd(fit.cholesky, p, x) - Math.sqrt(variance))).toBeLessThan(
        1e-9 * Math.sqrt(variance),
      );
    }
  });

  it("a warm start reaches the same optimum", () => {
    const prior: Prior = { kind: "isotropic", lambda: 0.5 };
    const cold = fitLogistic(data.stats, prior);
    const warm = fitLogistic(data.stats, prior, {
      warmStart: Float64Array.from(cold.w, (v) => v + 0.3),
    });
    expect(distance(warm.w, cold.w)).toBeLessThan(REFERENCE_TOLERANCE);
    const fromOptimum = fitLogistic(data.stats, prior, { warmStart: cold.w });
    expect(fromOptimum.iterations).toBe(0);
  });
});

describe("statistical behaviour on planted data", () => {
  const p = 16;
  const seeds = [1, 2, 3, 4, 5];
  const sizes = [16, 64, 256, 1024];

  it("recovery error ‖w − w*‖ shrinks as n grows (cross-validated λ, mean over seeds)", () => {
    const errors = sizes.map((n) =>
      mean(
        seeds.map((seed) => {
          const data = plantedPairs({ p, n, seed });
          const { fit } = fitWithCrossValidation(data.stats, { kind: "isotropic" });
          return distance(fit.w, data.wStar);
        }),
      ),
    );
    for (let i = 1; i < errors.length; i++) expect(errors[i]).toBeLessThan(errors[i - 1]);
    expect(errors[errors.length - 1]).toBeLessThan(0.3 * errors[0]);
  });

  it("the posterior standard deviation of x·w shrinks as n grows", () => {
    const x = Float64Array.from({ length: p }, (_, i) => (i % 3) - 1);
    const stds = sizes.map((n) =>
      mean(
        seeds.map((seed) => {
          const fit = fitLogistic(plantedPairs({ p, n, seed }).stats, {
            kind: "isotropic",
            lambda: 1,
          });
          return posteriorStd(fit.cholesky, p, x);
        }),
      ),
    );
    for (let i = 1; i < stds.length; i++) expect(stds[i]).toBeLessThan(stds[i - 1]);
    expect(stds[stds.length - 1]).toBeLessThan(0.25 * stds[0]);
  });

  it("a fitted user's held-out accuracy beats the global reward's", () => {
    for (const seed of [21, 22, 23]) {
      const data = plantedPairs({ p, n: 256, testN: 4000, seed });
      const { fit } = fitWithCrossValidation(data.stats, { kind: "isotropic" });
      expect(accuracy(data.test, fit.w)).toBeGreaterThan(globalAccuracy(data.test) + 0.05);
    }
  });

  it("a good population prior beats the isotropic prior for small n", () => {
    const wScale = 2;
    const isotropicErrors: number[] = [];
    const populationErrors: number[] = [];
    for (let seed = 0; seed < 10; seed++) {
      const data = plantedPairs({ p, n: 8, seed: 500 + seed, wScale });
      const noise = new SeededRandom(900 + seed);
      const mu = Float64Array.from(data.wStar, (v) => v + 0.1 * noise.gaussian());
      const cov = new Float64Array(p * p);
      for (let i = 0; i < p; i++) cov[i * p + i] = (wScale * wScale) / p;
      const isotropic = fitWithCrossValidation(data.stats, { kind: "isotropic" });
      const population = fitWithCrossValidation(data.stats, { kind: "population", mean: mu, cov });
      isotropicErrors.push(distance(isotropic.fit.w, data.wStar));
      populationErrors.push(distance(population.fit.w, data.wStar));
    }
    expect(mean(populationErrors)).toBeLessThan(0.5 * mean(isotropicErrors));
  });
});

describe("cross-validation", () => {
  const p = 4;
  /** Warm-started and cold fits agree to ~1e-9 in held-out likelihood only when both are tight. */
  const TIGHT = 1e-12;

  it("uses leave-one-out for n ≤ 24 and matches a from-scratch recomputation", () => {
    const data = plantedPairs({ p, n: 12, seed: 3 });
    const result = crossValidatePrior(data.stats, { kind: "isotropic" }, { tolerance: TIGHT });
    expect(result.method).toBe("leave-one-out");
    expect(result.folds).toBe(12);
    expect(result.scores.map((s) => s.value)).toEqual([...DEFAULT_LAMBDA_GRID]);
    for (const score of result.scores) {
      let total = 0;
      let correct = 0;
      for (let j = 0; j < 12; j++) {
        const train = subset(
          data.stats,
          [...Array(12).keys()].filter((i) => i !== j),
        );
        const fit = fitLogistic(
          train,
          { kind: "isotropic", lambda: score.value },
          { tolerance: TIGHT },
        );
        total += heldOutLogLikelihood(data.stats, [j], fit.w);
        correct += accuracy(subset(data.stats, [j]), fit.w);
      }
      expect(Math.abs(score.logLikelihood - total / 12)).toBeLessThan(1e-9);
      expect(score.accuracy).toBeCloseTo(correct / 12, 12);
    }
  });

  it("uses deterministic 5-fold (j mod 5) for n > 24 and matches a recomputation", () => {
    const data = plantedPairs({ p, n: 33, seed: 4 });
    const result = crossValidatePrior(data.stats, { kind: "isotropic" }, { tolerance: TIGHT });
    expect(result.method).toBe("k-fold");
    expect(result.folds).toBe(5);
    const score = result.scores[3];
    let total = 0;
    for (let fold = 0; fold < 5; fold++) {
      const all = [...Array(33).keys()];
      const fit = fitLogistic(
        subset(
          data.stats,
          all.filter((j) => j % 5 !== fold),
        ),
        { kind: "isotropic", lambda: score.value },
        { tolerance: TIGHT },
      );
      total += heldOutLogLikelihood(
        data.stats,
        all.filter((j) => j % 5 === fold),
        fit.w,
      );
    }
    expect(Math.abs(score.logLikelihood - total / 33)).toBeLessThan(1e-9);
  });

  it("chooses the grid value with the best held-out likelihood and is deterministic", () => {
    for (const n of [8, 32, 128]) {
      const data = plantedPairs({ p: 16, n, seed: 8 });
      const first = fitWithCrossValidation(data.stats, { kind: "isotropic" });
      const second = fitWithCrossValidation(data.stats, { kind: "isotropic" });
      expect(second).toEqual(first);
      const cv = first.crossValidation!;
      expect(DEFAULT_LAMBDA_GRID).toContain(cv.value);
      expect(first.prior).toEqual({ kind: "isotropic", lambda: cv.value });
      const bestScore = Math.max(...cv.scores.map((s) => s.logLikelihood));
      expect(cv.logLikelihood).toBe(bestScore);
      expect(cv.scores.find((s) => s.value === cv.value)!.logLikelihood).toBe(bestScore);
      expect(first.fit.converged).toBe(true);
      const direct = fitLogistic(data.stats, { kind: "isotropic", lambda: cv.value });
      expect(distance(first.fit.w, direct.w)).toBeLessThan(REFERENCE_TOLERANCE);
    }
  });

  it("chooses τ from its grid for the population prior and honours a custom grid", () => {
    const data = plantedPairs({ p, n: 20, seed: 12 });
    const cov = new Float64Array(p * p);
    for (let i = 0; i < p; i++) cov[i * p + i] = 1;
    const population = fitWithCrossValidation(data.stats, {
      kind: "population",
      mean: new Float64Array(p),
      cov,
    });
    expect(DEFAULT_TAU_GRID).toContain(population.crossValidation!.value);
    expect(population.prior.kind).toBe("population");
    const custom = crossValidatePrior(data.stats, { kind: "isotropic" }, { grid: [0.25, 4] });
    expect([0.25, 4]).toContain(custom.value);
    expect(custom.scores).toHaveLength(2);
  });

  it("keeps the population prior's own τ = 1 unless another beats it by a standard error", () => {
    const population = (tau: number) => ({ ...populationPrior(p, new Float64Array(p), 0.5, tau) });
    const family = (() => {
      const { tau: _tau, ...rest } = population(1) as Extract<Prior, { kind: "population" }>;
      return rest;
    })();
    let kept = 0;
    let overruled = 0;
    for (const [n, seed, wScale] of [
      [6, 31, 1],
      [12, 32, 1],
      [20, 33, 4],
      [20, 34, 8],
      [24, 35, 8],
    ] as const) {
      const data = plantedPairs({ p, n, seed, wScale });
      const chosen = crossValidatePrior(data.stats, family, { tolerance: TIGHT });
      const plain = crossValidatePrior(data.stats, family, { tolerance: TIGHT, reference: null });
      expect(chosen.reference).toBe(1);
      expect(plain.reference).toBeNull();
      expect(chosen.scores).toEqual(plain.scores);
      // The rule, recomputed from leave-one-out fits of the plain best and of τ = 1.
      const looPerPair = (tau: number) =>
        [...Array(n).keys()].map((j) => {
          const rest = [...Array(n).keys()].filter((i) => i !== j);
          const fit = fitLogistic(subset(data.stats, rest), population(tau), { tolerance: TIGHT });
          return heldOutLogLikelihood(data.stats, [j], fit.w);
        });
      const best = looPerPair(plain.value);
      const reference = looPerPair(1);
      const differences = best.map((ll, j) => ll - reference[j]!);
      const gain = mean(differences);
      const variance = differences.reduce((sum, x) => sum + (x - gain) ** 2, 0) / (n - 1);
      const expected = gain > Math.sqrt(variance / n) ? plain.value : 1;
      expect(chosen.value).toBe(expected);
      if (expected === 1 && plain.value !== 1) kept++;
      if (expected !== 1) overruled++;
    }
    // Both branches of the rule are exercised by these draws.
    expect(kept).toBeGreaterThan(0);
    expect(overruled).toBeGreaterThan(0);
    expect(() =>
      crossValidatePrior(plantedPairs({ p, n: 4, seed: 1 }).stats, family, { reference: 2 }),
    ).toThrow(/reference/);
    expect(DEFAULT_TAU_GRID).toContain(1);
  });

  it("skips cross-validation when the strength is given", () => {
    const data = plantedPairs({ p, n: 20, seed: 13 });
    const selected = fitWithCrossValidation(data.stats, { kind: "isotropic", lambda: 2 });
    expect(selected.crossValidation).toBeNull();
    expect(selected.fit.w).toEqual(fitLogistic(data.stats, { kind: "isotropic", lambda: 2 }).w);
  });

  it("prefers the strongest prior when the data say nothing (ties)", () => {
    const stats: PairStats = { g: new Float64Array(10 * p), o: new Float64Array(10), n: 10, p };
    const result = crossValidatePrior(stats, { kind: "isotropic" });
    expect(result.value).toBe(Math.max(...DEFAULT_LAMBDA_GRID));
  });
});

describe("edge cases", () => {
  const p = 4;

  it("fits a single pair", () => {
    const stats: PairStats = {
      g: Float64Array.of(1, -2, 0.5, 0),
      o: Float64Array.of(0.3),
      n: 1,
      p,
    };
    const fit = fitLogistic(stats, { kind: "isotropic", lambda: 1 });
    expect(fit.converged).toBe(true);
    // Stationarity for one pair: λ·w = (1 − σ(o + w·g))·g.
    const z = 0.3 + fit.w.reduce((s, v, i) => s + v * stats.g[i], 0);
    for (let i = 0; i < p; i++) {
      expect(Math.abs(fit.w[i] - (1 - sigmoid(z)) * stats.g[i])).toBeLessThan(1e-9);
    }
    const selected = fitWithCrossValidation(stats, { kind: "isotropic" });
    expect(selected.crossValidation!.method).toBe("leave-one-out");
    expect(selected.fit.w.every(Number.isFinite)).toBe(true);
  });

  it("all-zero features leave w at the prior mean with H = Λ", () => {
    const stats: PairStats = {
      g: new Float64Array(5 * p),
      o: Float64Array.of(1, -1, 2, 0, 3),
      n: 5,
      p,
    };
    const fit: FitResult = fitLogistic(stats, { kind: "isotropic", lambda: 4 });
    expect(Array.from(fit.w)).toEqual([0, 0, 0, 0]);
    expect(fit.iterations).toBe(0);
    expect(Array.from(fit.cholesky)).toEqual([2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 2]);
    expect(fit.trainAccuracy).toBe(0.6);
    expect(globalAccuracy(stats)).toBe(0.6);
    expect(posteriorStd(fit.cholesky, p, Float32Array.of(3, 4, 0, 0))).toBeCloseTo(2.5, 14);

    const mu = Float64Array.of(1, 2, 3, 4);
    const cov = new Float64Array(p * p);
    for (let i = 0; i < p; i++) cov[i * p + i] = 1;
    const population = fitLogistic(stats, { kind: "population", mean: mu, cov, tau: 3 });
    expect(Array.from(population.w)).toEqual(Array.from(mu));
  });

  it("an empty data set returns the prior", () => {
    const stats: PairStats = { g: new Float64Array(0), o: new Float64Array(0), n: 0, p };
    const fit = fitLogistic(stats, { kind: "isotropic", lambda: 1 });
    expect(Array.from(fit.w)).toEqual([0, 0, 0, 0]);
    expect(() => crossValidatePrior(stats, { kind: "isotropic" })).toThrow(TypeError);
    const selected = fitWithCrossValidation(stats, { kind: "isotropic" });
    expect(selected.crossValidation).toBeNull();
    expect(selected.prior).toEqual({ kind: "isotropic", lambda: Math.max(...DEFAULT_LAMBDA_GRID) });
    expect(Array.from(selected.fit.w)).toEqual([0, 0, 0, 0]);
  });

  it("separable data stay finite thanks to the prior", () => {
    const random = new SeededRandom(31);
    const n = 30;
    const g = new Float64Array(n * p);
    for (let j = 0; j < n; j++) {
      for (let i = 0; i < p; i++) g[j * p + i] = random.gaussian();
      g[j * p] = 0.5 + Math.abs(g[j * p]);
    }
    const stats: PairStats = { g, o: new Float64Array(n), n, p };
    for (const lambda of [1e-3, 1e-6]) {
      const fit = fitLogistic(stats, { kind: "isotropic", lambda });
      expect(fit.converged).toBe(true);
      expect(fit.trainAccuracy).toBe(1);
      expect(fit.w.every(Number.isFinite)).toBe(true);
      expect(fit.cholesky.every(Number.isFinite)).toBe(true);
      expect(norm(fit.w)).toBeLessThan(1e3);
    }
    const selected = fitWithCrossValidation(stats, { kind: "isotropic" });
    expect(selected.fit.w.every(Number.isFinite)).toBe(true);
  });

  it("rejects non-finite or malformed inputs with TypeErrors that say what was expected", () => {
    const good = (): PairStats => ({
      g: Float64Array.of(1, 2, 3, 4, 5, 6, 7, 8),
      o: Float64Array.of(0, 1),
      n: 2,
      p,
    });
    const iso: Prior = { kind: "isotropic", lambda: 1 };
    const withNaN = good();
    withNaN.g[5] = Number.NaN;
    expect(() => fitLogistic(withNaN, iso)).toThrow(
      new TypeError("stats.g[5]: expected a finite number, got NaN"),
    );
    const withInfinity = good();
    withInfinity.o[1] = Number.POSITIVE_INFINITY;
    expect(() => fitLogistic(withInfinity, iso)).toThrow(/stats\.o\[1\]: expected a finite number/);
    expect(() => fitLogistic({ ...good(), n: 3 }, iso)).toThrow(
      /expected a Float64Array of length/,
    );
    expect(() => fitLogistic(good(), { kind: "isotropic", lambda: 0 })).toThrow(
      /lambda: expected a finite positive number/,
    );
    expect(() => fitLogistic(good(), { kind: "isotropic", lambda: Number.NaN })).toThrow(TypeError);
    expect(() =>
      fitLogistic(good(), iso, { warmStart: Float64Array.of(0, Number.NaN, 0, 0) }),
    ).toThrow(/warmStart\[1\]: expected a finite number/);
    const cov = new Float64Array(p * p);
    for (let i = 0; i < p; i++) cov[i * p + i] = 1;
    const population = (overrides: Partial<Extract<Prior, { kind: "population" }>>): Prior => ({
      kind: "population",
      mean: new Float64Array(p),
      cov,
      tau: 1,
      ...overrides,
    });
    expect(() => fitLogistic(good(), population({ mean: new Float64Array(3) }))).toThrow(
      /prior\.mean: expected a Float64Array or Float32Array of length 4/,
    );
    const asymmetric = Float64Array.from(cov);
    asymmetric[1] = 0.5;
    expect(() => fitLogistic(good(), population({ cov: asymmetric }))).toThrow(/symmetric/);
    const indefinite = Float64Array.from(cov);
    indefinite[1] = 2;
    indefinite[4] = 2;
    expect(() => fitLogistic(good(), population({ cov: indefinite }))).toThrow(
      /prior\.cov: expected a positive semi-definite matrix/,
    );
    expect(() => fitLogistic(good(), population({ cov: new Float64Array(p * p) }))).toThrow(
      /prior\.cov: expected a covariance with a positive trace/,
    );
    expect(() => fitLogistic(good(), population({ tau: -1 }))).toThrow(/tau/);
    expect(() =>
      posteriorStd(new Float64Array(16), p, Float64Array.of(1, Number.NaN, 0, 0)),
    ).toThrow(/x\[1\]: expected a finite number/);
    expect(() => crossValidatePrior(good(), { kind: "isotropic" }, { grid: [1, -1] })).toThrow(
      /grid\[\]: expected a finite positive number/,
    );
  });
});

describe("plantedPairs", () => {
  it("is deterministic, nests training sets and keeps the test set independent of n", () => {
    const small = plantedPairs({ p: 3, n: 5, testN: 4, seed: 42 });
    const large = plantedPairs({ p: 3, n: 9, testN: 4, seed: 42 });
    expect(plantedPairs({ p: 3, n: 5, testN: 4, seed: 42 })).toEqual(small);
    expect(large.wStar).toEqual(small.wStar);
    expect(large.stats.g.subarray(0, 15)).toEqual(small.stats.g);
    expect(large.test).toEqual(small.test);
    expect(plantedPairs({ p: 3, n: 5, seed: 43 }).wStar).not.toEqual(small.wStar);
  });

  it("labels follow Bradley–Terry with the planted adapter", () => {
    const data = plantedPairs({ p: 2, n: 20_000, seed: 6, wScale: 3 });
    // Oriented pairs agree with w* more often than not, and exactly as often as BT predicts:
    // E[σ(|z|)] over z = o + w*·g, estimated here from the same draws.
    let agree = 0;
    let expected = 0;
    for (let j = 0; j < data.stats.n; j++) {
      const z =
        data.stats.o[j] +
        data.wStar[0] * data.stats.g[2 * j] +
        data.wStar[1] * data.stats.g[2 * j + 1];
      if (z > 0) agree++;
      expected += sigmoid(Math.abs(z));
    }
    expect(Math.abs(agree - expected) / data.stats.n).toBeLessThan(0.015);
  });
});
