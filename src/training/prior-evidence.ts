/**
 * Chooses the prior strength s (λ or τ) of an onboarding fit by the Laplace approximation to the
 * marginal likelihood (the evidence) of the user's pairs:
 *
 *   log p(D | s) ≈ Σ_j log σ(o_j + ŵ·g_j) − ½·s·(ŵ − μ)ᵀΛ₀(ŵ − μ) + ½·log det(s·Λ₀) − ½·log det H_s
 *
 * with ŵ the MAP fit at s and H_s = Σ_j p_j(1 − p_j)·g_j·g_jᵀ + s·Λ₀ its posterior precision.
 * Unlike held-out likelihood, the evidence charges a weak prior for the volume it spreads over
 * (the determinant terms), so a handful of separable pairs does not drive s to the grid's floor.
 *
 * With few pairs the evidence is nearly flat in s, and an exactly separable set still tilts it
 * towards weaker priors; a hyperprior log s ~ N(log s₀, HYPERPRIOR_SD²) centred on the prior's own
 * strength s₀ (1 for the population prior, whose spread was estimated from the training users)
 * settles such cases, and many pairs overrule it.
 */
import { logDetFromCholesky } from "../math/linalg.js";
import {
  assertStrength,
  type FitOptions,
  type FitResult,
  fitWithShape,
  type PairStats,
  type Prior,
  type PriorShape,
  type PriorSpec,
  priorAt,
  strengthFitSetup,
} from "./logistic-fit.js";

/** Log-spaced strengths from 10⁻² to 10², quarter-decades. */
export const EVIDENCE_GRID: readonly number[] = Object.freeze(
  Array.from({ length: 17 }, (_, i) => 10 ** (-2 + i / 4)),
);
/** Standard deviation of log s in the hyperprior (a factor e per standard deviation). */
export const HYPERPRIOR_SD = 1;

export interface EvidencePoint {
  value: number;
  /** Laplace log evidence (up to a constant that does not depend on s). */
  logEvidence: number;
}

export interface EvidenceFit {
  fit: FitResult;
  prior: Prior;
  /** null when the strength was given. */
  evidence: { value: number; points: EvidencePoint[] } | null;
}

export interface EvidenceOptions extends Pick<FitOptions, "tolerance" | "maxIterations"> {
  grid?: readonly number[];
  /** Centre s₀ of the hyperprior (default 1); null: no hyperprior (plain evidence maximization). */
  centre?: number | null;
  hyperpriorSd?: number;
}

/** Fits with the given strength, or with the strength of highest (hyperprior-weighted) evidence. */
export function fitWithEvidence(
  stats: PairStats,
  spec: PriorSpec,
  options: EvidenceOptions = {},
): EvidenceFit {
  const { shape, settings, solver, given } = strengthFitSetup(stats, spec, options);
  if (given !== undefined) {
    const fit = fitWithShape(stats, shape, given, settings, shape.mean, solver);
    return { fit, prior: priorAt(spec, given), evidence: null };
  }
  const grid = options.grid ?? EVIDENCE_GRID;
  if (!Array.isArray(grid) || grid.length === 0) {
    throw new TypeError("grid: expected a non-empty array of finite positive numbers");
  }
  for (const value of grid) assertStrength(value, "grid[]");
  const centre = options.centre === undefined ? 1 : options.centre;
  if (centre !== null) assertStrength(centre, "centre");
  const sd = options.hyperpriorSd ?? HYPERPRIOR_SD;
  assertStrength(sd, "hyperpriorSd");

  // Strongest prior first: each solution warm-starts the next, nearest the prior mean first.
  const order = grid.map((_, i) => i).sort((a, b) => grid[b]! - grid[a]!);
  const points: EvidencePoint[] = grid.map((value) => ({ value, logEvidence: 0 }));
  let best = -1;
  let bestScore = Number.NEGATIVE_INFINITY;
  let bestFit: FitResult | undefined;
  let start: Float64Array = shape.mean;
  for (const index of order) {
    const strength = grid[index]!;
    const fit = fitWithShape(stats, shape, strength, settings, start, solver);
    start = fit.w;
    const logEvidence = laplaceLogEvidence(fit, shape, strength, stats.p);
    points[index]!.logEvidence = logEvidence;
    const score =
      centre === null ? logEvidence : logEvidence - 0.5 * (Math.log(strength / centre) / sd) ** 2;
    // Ties go to the stronger prior (visited first).
    if (score > bestScore) {
      bestScore = score;
      best = index;
      bestFit = fit;
    }
  }
  return {
    fit: bestFit!,
    prior: priorAt(spec, grid[best]!),
    evidence: { value: grid[best]!, points },
  };
}

/** The Laplace log evidence at the MAP fit, dropping −½·log det Λ₀⁻¹ (constant in s). */
export function laplaceLogEvidence(
  fit: FitResult,
  shape: PriorShape,
  strength: number,
  p: number,
): number {
  let quadratic = 0;
  for (let i = 0; i < p; i++) {
    const di = fit.w[i]! - shape.mean[i]!;
    if (shape.precision === null) {
      quadratic += di * di;
      continue;
    }
    for (let j = 0; j < p; j++) {
      quadratic += di * shape.precision[i * p + j]! * (fit.w[j]! - shape.mean[j]!);
    }
  }
  return (
    fit.logLikelihood -
    0.5 * strength * quadratic +
    0.5 * p * Math.log(strength) -
    0.5 * logDetFromCholesky(fit.cholesky, p)
  );
}
