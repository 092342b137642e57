import { adapterDraft } from "../adapters/adapter-draft.js";
import type { AdapterDraft } from "../adapters/types.js";
import { LogisticNewtonSolver } from "../math/logistic-newton.js";
import type { Head } from "../model/head-file.js";
import { crossValidatePrior, type PriorFamily } from "./cross-validation.js";
import { fitWithShape, globalAccuracy, type PairStats, priorShape } from "./logistic-fit.js";

/** Strength of the head's population prior for trained users: the prior as estimated, τ = 1. */
export const TRAINED_PRIOR_STRENGTH = 1;

/**
 * The adapter the server would store for a user whose W was fitted offline: W as trained, the
 * Laplace posterior at that W (H = Σ σ(1−σ)·g·gᵀ + τ·Λ₀, Λ₀ the head's population precision, or
 * λ·I without a population prior), the fit's metrics, and the pair statistics, so a later
 * `append` fit continues from them.
 */
export function trainedAdapterDraft(
  head: Head,
  stats: PairStats,
  W: Float64Array,
  isotropicLambda: number,
): AdapterDraft {
  const p = head.k * head.m;
  if (stats.p !== p || W.length !== p) {
    throw new TypeError(`W and stats: expected k·m = ${p} values per pair and in W`);
  }
  const family: PriorFamily = head.prior
    ? { kind: "population", mean: head.prior.mean, cov: head.prior.cov }
    : { kind: "isotropic" };
  const strength = head.prior ? TRAINED_PRIOR_STRENGTH : isotropicLambda;
  const solver = new LogisticNewtonSolver(p, stats.n);
  const atW = fitWithShape(
    stats,
    priorShape(family, p),
    strength,
    { tolerance: 1e-8, maxIterations: 0 },
    W,
    solver,
  );
  const cvAccuracy =
    stats.n === 0 ? 0 : crossValidatePrior(stats, family, { grid: [strength] }).accuracy;
  return adapterDraft({
    head,
    W,
    pairs: stats,
    fit: atW,
    strength,
    cvAccuracy,
    globalAccuracy: globalAccuracy(stats),
  });
}
