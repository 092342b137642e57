/**
 * Chooses the prior strength (λ for the isotropic prior, τ for the population prior) by
 * cross-validated held-out log-likelihood: leave-one-out for small n, deterministic K-fold
 * (pair j in fold j mod K) otherwise. The full-data solutions along the grid are computed first
 * (each warm-started from the previous, strongest prior first); each fold then starts from the
 * full-data solution at the same strength, and the final fit from the chosen one. One solver's
 * buffers serve every fit; folds are row masks, so no data is copied.
 *
 * A population prior is already an estimate of how users spread (empirical Bayes), so its own
 * strength, τ = 1, is kept unless another grid value beats it by more than one standard error of
 * the per-pair held-out log-likelihood difference: with a handful of pairs the held-out scores
 * are too noisy to overrule the population, and with many the rule steps aside.
 */
import { HeldOutStart } from "../math/held-out-start.js";
import { lowerProductFromCholesky } from "../math/linalg.js";
import { logSigmoid } from "../math/logistic.js";
import { LogisticNewtonSolver } from "../math/logistic-newton.js";
import {
  assertStrength,
  type FitOptions,
  type FitResult,
  fitWithShape,
  newtonSettings,
  type PairStats,
  type PopulationPrior,
  type Prior,
  type PriorShape,
  type PriorSpec,
  priorAt,
  priorShape,
  strengthFitSetup,
  validatePairStats,
} from "./logistic-fit.js";

/** A prior without its strength. */
export type PriorFamily = { kind: "isotropic" } | Omit<PopulationPrior, "tau">;

/** A prior whose strength is chosen by cross-validation when left out. */

export interface CrossValidationOptions extends Pick<FitOptions, "tolerance" | "maxIterations"> {
  /** Candidate strengths (default DEFAULT_LAMBDA_GRID or DEFAULT_TAU_GRID). */
  grid?: readonly number[];
  /** K for K-fold (default 5). */
  folds?: number;
  /** Leave-one-out when n ≤ this (default 24). */
  leaveOneOutMaxPairs?: number;
  /**
   * The strength kept unless another beats it by more than one standard error; it must be in the
   * grid. Default: 1 for the population prior (when the grid holds it), none for the isotropic.
   */
  reference?: number | null;
}

export interface GridScore {
  value: number;
  /** Mean held-out log σ(o + w·g) per pair. */
  logLikelihood: number;
  /** Fraction of held-out pairs with o + w·g > 0. */
  accuracy: number;
}

export interface CrossValidationResult {
  /** The chosen strength: the best held-out log-likelihood, or the reference within a standard error of it. */
  value: number;
  /** The reference strength the choice leaned to, if any. */
  reference: number | null;
  method: "leave-one-out" | "k-fold";
  folds: number;
  logLikelihood: number;
  accuracy: number;
  /** One score per grid value, in the grid's order. */
  scores: GridScore[];
}

export interface SelectedFit {
  fit: FitResult;
  prior: Prior;
  /** null when the strength was given, or when there were no pairs (the strongest grid value is used). */
  crossValidation: CrossValidationResult | null;
}

function logSpace(fromExponent: number, toExponent: number, count: number): readonly number[] {
  const step = (toExponent - fromExponent) / (count - 1);
  return Object.freeze(Array.from({ length: count }, (_, i) => 10 ** (fromExponent + i * step)));
}

export const DEFAULT_LAMBDA_GRID = logSpace(-3, 2, 8);
/** Half-decades around τ = 1, the population prior as estimated. */
export const DEFAULT_TAU_GRID = logSpace(-2, 2, 9);
export const POPULATION_REFERENCE_TAU = 1;
export const DEFAULT_FOLDS = 5;
/** Leave-one-out up to here: beyond it, 5-fold gives the same choice at a fraction of the refits. */
export const DEFAULT_LEAVE_ONE_OUT_MAX_PAIRS = 24;

export function crossValidatePrior(
  stats: PairStats,
  family: PriorFamily,
  options: CrossValidationOptions = {},
): CrossValidationResult {
  validatePairStats(stats);
  if (stats.n < 1) throw new TypeError("stats.n: expected at least one pair to cross-validate");
  const shape = priorShape(family, stats.p);
  return runCrossValidation(stats, shape, family.kind, options, new LogisticNewtonSolver(stats.p))
    .result;
}

/** Fits with the given strength, or with the strength chosen by cross-validation. */
export function fitWithCrossValidation(
  stats: PairStats,
  spec: PriorSpec,
  options: CrossValidationOptions = {},
): SelectedFit {
  const { shape, settings, solver, given } = strengthFitSetup(stats, spec, options);
  let strength: number;
  let crossValidation: CrossValidationResult | null = null;
  let start: Float64Array = shape.mean;
  if (given !== undefined) {
    strength = given;
  } else if (stats.n === 0) {
    strength = defaultGrid(spec.kind, options).reduce((a, b) => Math.max(a, b));
  } else {
    const run = runCrossValidation(stats, shape, spec.kind, options, solver);
    crossValidation = run.result;
    strength = run.result.value;
    start = run.fullDataSolution;
  }
  const fit = fitWithShape(stats, shape, strength, settings, start, solver);
  return { fit, prior: priorAt(spec, strength), crossValidation };
}

function defaultGrid(
  kind: PriorFamily["kind"],
  options: CrossValidationOptions,
): readonly number[] {
  const grid = options.grid ?? (kind === "isotropic" ? DEFAULT_LAMBDA_GRID : DEFAULT_TAU_GRID);
  if (!Array.isArray(grid) || grid.length === 0) {
    throw new TypeError("grid: expected a non-empty array of finite positive numbers");
  }
  for (const value of grid) assertStrength(value, "grid[]");
  return grid;
}

function runCrossValidation(
  stats: PairStats,
  shape: PriorShape,
  kind: PriorFamily["kind"],
  options: CrossValidationOptions,
  solver: LogisticNewtonSolver,
): { result: CrossValidationResult; fullDataSolution: Float64Array } {
  const grid = defaultGrid(kind, options);
  const settings = newtonSettings(options);
  const looMax = options.leaveOneOutMaxPairs ?? DEFAULT_LEAVE_ONE_OUT_MAX_PAIRS;
  const requestedFolds = options.folds ?? DEFAULT_FOLDS;
  if (!Number.isInteger(looMax) || looMax < 0) {
    throw new TypeError(`leaveOneOutMaxPairs: expected a non-negative integer, got ${looMax}`);
  }
  if (!Number.isInteger(requestedFolds) || requestedFolds < 2) {
    throw new TypeError(`folds: expected an integer ≥ 2, got ${String(requestedFolds)}`);
  }
  const { g, o, n, p } = stats;
  const leaveOneOut = n <= looMax;
  const folds = leaveOneOut ? n : Math.min(requestedFolds, n);
  const active = new Uint8Array(n).fill(1);
  const problem = {
    g,
    o,
    n,
    active,
    priorPrecision: shape.precision,
    priorMean: shape.mean,
    priorScale: 1,
  };

  // The full-data path, strongest prior first (its solution is nearest the prior mean), gives
  // every fold a starting point that differs from its optimum only by the held-out pairs.
  const order = grid.map((_, i) => i).sort((a, b) => grid[b] - grid[a]);
  const fullSolutions = new Float64Array(grid.length * p);
  const fullHessians = new Float64Array(grid.length * p * p);
  const w = Float64Array.from(shape.mean);
  for (const index of order) {
    problem.priorScale = grid[index];
    solver.solve(problem, w, settings);
    fullSolutions.set(w, index * p);
    lowerProductFromCholesky(
      solver.hessianFactor,
      p,
      fullHessians.subarray(index * p * p, (index + 1) * p * p),
    );
  }
  const heldOutStart = new HeldOutStart(p);

  const heldOutLogLikelihood = new Float64Array(grid.length);
  const heldOutCorrect = new Float64Array(grid.length);
  // Per pair and strength, for the standard error of differences between strengths.
  const pairLogLikelihood = new Float64Array(grid.length * n);
  for (let fold = 0; fold < folds; fold++) {
    for (let j = fold; j < n; j += folds) active[j] = 0;
    for (let index = 0; index < grid.length; index++) {
      problem.priorScale = grid[index];
      heldOutStart.compute(
        g,
        o,
        n,
        fold,
        folds,
        fullSolutions.subarray(index * p, (index + 1) * p),
        fullHessians.subarray(index * p * p, (index + 1) * p * p),
        w,
      );
      solver.solve(problem, w, settings, { factor: false });
      for (let j = fold; j < n; j += folds) {
        let z = o[j];
        for (let i = 0; i < p; i++) z += w[i] * g[j * p + i];
        const ll = logSigmoid(z);
        heldOutLogLikelihood[index] += ll;
        pairLogLikelihood[index * n + j] = ll;
        if (z > 0) heldOutCorrect[index]++;
      }
    }
    for (let j = fold; j < n; j += folds) active[j] = 1;
  }

  const scores = grid.map((value, index) => ({
    value,
    logLikelihood: heldOutLogLikelihood[index] / n,
    accuracy: heldOutCorrect[index] / n,
  }));
  // Ties go to the stronger prior (visited first).
  let best = order[0];
  for (const index of order) {
    if (scores[index].logLikelihood > scores[best].logLikelihood) best = index;
  }
  const reference = referenceIndex(grid, kind, options);
  if (reference !== null && best !== reference) {
    const gain = meanAndStandardError(pairLogLikelihood, best, reference, n);
    if (gain.mean <= gain.standardError) best = reference;
  }
  return {
    result: {
      value: grid[best],
      reference: reference === null ? null : grid[reference],
      method: leaveOneOut ? "leave-one-out" : "k-fold",
      folds,
      logLikelihood: scores[best].logLikelihood,
      accuracy: scores[best].accuracy,
      scores,
    },
    fullDataSolution: fullSolutions.slice(best * p, (best + 1) * p),
  };
}

function referenceIndex(
  grid: readonly number[],
  kind: PriorFamily["kind"],
  options: CrossValidationOptions,
): number | null {
  if (options.reference === null) return null;
  if (options.reference === undefined) {
    if (kind !== "population") return null;
    const index = grid.indexOf(POPULATION_REFERENCE_TAU);
    return index < 0 ? null : index;
  }
  const index = grid.indexOf(options.reference);
  if (index < 0) {
    throw new TypeError(`reference: expected one of the grid's values, got ${options.reference}`);
  }
  return index;
}

/** Mean of the per-pair differences a − b, and its standard error (unbounded for one pair). */
function meanAndStandardError(
  perPair: Float64Array,
  a: number,
  b: number,
  n: number,
): { mean: number; standardError: number } {
  let sum = 0;
  for (let j = 0; j < n; j++) sum += perPair[a * n + j] - perPair[b * n + j];
  const mean = sum / n;
  if (n < 2) return { mean, standardError: Number.POSITIVE_INFINITY };
  let squares = 0;
  for (let j = 0; j < n; j++) {
    const deviation = perPair[a * n + j] - perPair[b * n + j] - mean;
    squares += deviation * deviation;
  }
  return { mean, standardError: Math.sqrt(squares / (n - 1) / n) };
}
