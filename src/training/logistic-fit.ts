/**
 * Fits one user's adapter W_i (vec, length p = k·m) with B frozen: MAP Bradley–Terry logistic
 * regression on pair statistics, plus its Laplace posterior N(w, H⁻¹).
 *
 * For pair j, g_j = vec(P(chosen) − P(rejected)) and o_j = base(chosen) − base(rejected), so
 * the model's log-odds that the chosen response wins are o_j + w·g_j.
 */
import {
  addToDiagonal,
  choleskyInPlace,
  inverseFromCholesky,
  inverseQuadraticForm,
  relativeAsymmetry,
  trace,
} from "../math/linalg.js";
import { logSigmoid } from "../math/logistic.js";
import { LogisticNewtonSolver, type NewtonSettings } from "../math/logistic-newton.js";
import { NotPositiveDefiniteError } from "../math/not-positive-definite-error.js";

export interface PairStats {
  /** n×p row-major: row j is vec(P(chosen_j) − P(rejected_j)). */
  g: Float64Array;
  /** base(chosen_j) − base(rejected_j). */
  o: Float64Array;
  n: number;
  p: number;
}

/** w ~ N(0, I/λ). */
export interface IsotropicPrior {
  kind: "isotropic";
  lambda: number;
}

/**
 * w ~ N(mean, cov/τ). The covariance is regularized to cov + ε·I with
 * ε = ridge · trace(cov)/p (ridge defaults to DEFAULT_COVARIANCE_RIDGE) because population
 * covariances estimated from few users are often singular.
 */
export interface PopulationPrior {
  kind: "population";
  mean: Float64Array;
  /** p×p row-major, symmetric positive semi-definite. */
  cov: Float64Array;
  tau: number;
  ridge?: number;
}

export type Prior = IsotropicPrior | PopulationPrior;

export interface FitOptions {
  /** Relative gradient-norm tolerance (default 1e-8). */
  tolerance?: number;
  /** Newton iteration cap (default 100). */
  maxIterations?: number;
  /** Starting point (default: the prior mean). */
  warmStart?: Float64Array;
}

export interface FitResult {
  w: Float64Array;
  /** Lower-triangular row-major Cholesky factor L of the posterior precision H = L·Lᵀ. */
  cholesky: Float64Array;
  /** Newton iterations of this fit (0 when it started at the optimum, e.g. after cross-validation). */
  iterations: number;
  gradNorm: number;
  /** Σ_j log σ(o_j + w·g_j) at w, without the prior term. */
  logLikelihood: number;
  /** Fraction of pairs with o_j + w·g_j > 0. */
  trainAccuracy: number;
  converged: boolean;
}

export const DEFAULT_TOLERANCE = 1e-8;
export const DEFAULT_MAX_ITERATIONS = 100;
export const DEFAULT_COVARIANCE_RIDGE = 1e-3;

/** A prior with its strength factored out: precision = strength · precision₀. */
export interface PriorShape {
  /** Λ₀, p×p; null for the identity (isotropic prior). */
  precision: Float64Array | null;
  mean: Float64Array;
}

export function fitLogistic(stats: PairStats, prior: Prior, options: FitOptions = {}): FitResult {
  validatePairStats(stats);
  const shape = priorShape(prior, stats.p);
  const strength = priorStrength(prior);
  const settings = newtonSettings(options);
  const start = options.warmStart ?? shape.mean;
  assertFiniteVector(start, stats.p, "warmStart");
  return fitWithShape(stats, shape, strength, settings, start, new LogisticNewtonSolver(stats.p));
}

/** sqrt(xᵀH⁻¹x): posterior standard deviation of x·w under the Laplace approximation. */
export function posteriorStd(
  cholesky: Float64Array,
  p: number,
  x: Float64Array | Float32Array,
): number {
  if (!Number.isInteger(p) || p <= 0) {
    throw new TypeError(`p: expected a positive integer, got ${String(p)}`);
  }
  if (!(cholesky instanceof Float64Array) || cholesky.length !== p * p) {
    throw new TypeError(`cholesky: expected a Float64Array of length p·p = ${p * p}`);
  }
  assertFiniteVector(x, p, "x");
  return Math.sqrt(inverseQuadraticForm(cholesky, p, x));
}

/** Accuracy of the global reward (w = 0): fraction of pairs with o_j > 0. */
export function globalAccuracy(stats: PairStats): number {
  validatePairStats(stats);
  if (stats.n === 0) return 0;
  let correct = 0;
  for (let j = 0; j < stats.n; j++) if (stats.o[j] > 0) correct++;
  return correct / stats.n;
}

/** Fit with an already validated problem and prior shape; reuses the solver's buffers. */
export function fitWithShape(
  stats: PairStats,
  shape: PriorShape,
  strength: number,
  settings: NewtonSettings,
  start: Float64Array | Float32Array,
  solver: LogisticNewtonSolver,
): FitResult {
  const { g, o, n, p } = stats;
  const w = Float64Array.from(start.subarray(0, p));
  const outcome = solver.solve(
    { g, o, n, priorPrecision: shape.precision, priorMean: shape.mean, priorScale: strength },
    w,
    settings,
  );
  let logLikelihood = 0;
  let correct = 0;
  for (let j = 0; j < n; j++) {
    let z = o[j];
    const offset = j * p;
    for (let i = 0; i < p; i++) z += w[i] * g[offset + i];
    logLikelihood += logSigmoid(z);
    if (z > 0) correct++;
  }
  return {
    w,
    cholesky: Float64Array.from(solver.hessianFactor),
    iterations: outcome.iterations,
    gradNorm: outcome.gradNorm,
    logLikelihood,
    trainAccuracy: n === 0 ? 0 : correct / n,
    converged: outcome.converged,
  };
}

export function newtonSettings(
  options: Pick<FitOptions, "tolerance" | "maxIterations">,
): NewtonSettings {
  const tolerance = options.tolerance ?? DEFAULT_TOLERANCE;
  const maxIterations = options.maxIterations ?? DEFAULT_MAX_ITERATIONS;
  if (!Number.isFinite(tolerance) || tolerance <= 0) {
    throw new TypeError(`tolerance: expected a finite positive number, got ${String(tolerance)}`);
  }
  if (!Number.isInteger(maxIterations) || maxIterations < 0) {
    throw new TypeError(
      `maxIterations: expected a non-negative integer, got ${String(maxIterations)}`,
    );
  }
  return { tolerance, maxIterations };
}

export function priorStrength(prior: Prior): number {
  const [name, value] = prior.kind === "isotropic" ? ["lambda", prior.lambda] : ["tau", prior.tau];
  assertStrength(value, name);
  return value;
}

export function assertStrength(value: number, name: string): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(`${name}: expected a finite positive number, got ${String(value)}`);
  }
}

/** Base precision Λ₀ and mean: (I, 0) for isotropic, ((cov + εI)⁻¹, mean) for population. */
export function priorShape(
  prior: { kind: "isotropic" } | Omit<PopulationPrior, "tau">,
  p: number,
): PriorShape {
  if (prior.kind === "isotropic") {
    return { precision: null, mean: new Float64Array(p) };
  }
  assertFiniteVector(prior.mean, p, "prior.mean");
  if (!(prior.cov instanceof Float64Array) || prior.cov.length !== p * p) {
    throw new TypeError(`prior.cov: expected a Float64Array of length p·p = ${p * p}`);
  }
  assertFiniteVector(prior.cov, p * p, "prior.cov");
  if (relativeAsymmetry(prior.cov, p) > 1e-9) {
    throw new TypeError("prior.cov: expected a symmetric matrix");
  }
  const ridge = prior.ridge ?? DEFAULT_COVARIANCE_RIDGE;
  assertStrength(ridge, "prior.ridge");
  const averageVariance = trace(prior.cov, p) / p;
  if (!(averageVariance > 0)) {
    throw new TypeError("prior.cov: expected a covariance with a positive trace");
  }
  const factor = Float64Array.from(prior.cov);
  addToDiagonal(factor, p, ridge * averageVariance);
  try {
    choleskyInPlace(factor, p);
  } catch (error) {
    if (error instanceof NotPositiveDefiniteError) {
      throw new TypeError("prior.cov: expected a positive semi-definite matrix", { cause: error });
    }
    throw error;
  }
  return { precision: inverseFromCholesky(factor, p), mean: Float64Array.from(prior.mean) };
}

export function validatePairStats(stats: PairStats): void {
  const { g, o, n, p } = stats;
  if (!Number.isInteger(p) || p <= 0) {
    throw new TypeError(`stats.p: expected a positive integer, got ${String(p)}`);
  }
  if (!Number.isInteger(n) || n < 0) {
    throw new TypeError(`stats.n: expected a non-negative integer, got ${String(n)}`);
  }
  if (!(g instanceof Float64Array) || g.length !== n * p) {
    throw new TypeError(`stats.g: expected a Float64Array of length n·p = ${n * p}`);
  }
  if (!(o instanceof Float64Array) || o.length !== n) {
    throw new TypeError(`stats.o: expected a Float64Array of length n = ${n}`);
  }
  assertFiniteVector(g, n * p, "stats.g");
  assertFiniteVector(o, n, "stats.o");
}

function assertFiniteVector(x: Float64Array | Float32Array, length: number, name: string): void {
  if (!(x instanceof Float64Array || x instanceof Float32Array) || x.length !== length) {
    throw new TypeError(`${name}: expected a Float64Array or Float32Array of length ${length}`);
  }
  for (let i = 0; i < length; i++) {
    if (!Number.isFinite(x[i])) {
      throw new TypeError(`${name}[${i}]: expected a finite number, got ${String(x[i])}`);
    }
  }
}

/** A prior whose strength (λ or τ) a fitter chooses when the caller leaves it out. */
export type PriorSpec =
  | { kind: "isotropic"; lambda?: number }
  | (Omit<PopulationPrior, "tau"> & { tau?: number });

/** The prior of `spec` at one strength. */
export function priorAt(spec: PriorSpec, strength: number): Prior {
  return spec.kind === "isotropic"
    ? { kind: "isotropic", lambda: strength }
    : { ...spec, kind: "population", tau: strength };
}

/**
 * What every fitter of a prior's strength starts from: the checked statistics, the prior's shape,
 * Newton's settings, one solver for all its fits, and the strength the caller fixed, if any
 * (checked).
 */
export function strengthFitSetup(
  stats: PairStats,
  spec: PriorSpec,
  options: Pick<FitOptions, "tolerance" | "maxIterations">,
): {
  shape: PriorShape;
  settings: NewtonSettings;
  solver: LogisticNewtonSolver;
  given: number | undefined;
} {
  validatePairStats(stats);
  const given = spec.kind === "isotropic" ? spec.lambda : spec.tau;
  if (given !== undefined) assertStrength(given, spec.kind === "isotropic" ? "lambda" : "tau");
  return {
    shape: priorShape(spec, stats.p),
    settings: newtonSettings(options),
    solver: new LogisticNewtonSolver(stats.p, stats.n),
    given,
  };
}
