import { DEFAULT_COVARIANCE_RIDGE } from "../logistic-fit.js";

/** N(mean, cov) over the users' vec(W_i); the population prior for onboarding new users. */
export interface PopulationPriorEstimate {
  mean: Float64Array;
  /** p×p row-major, symmetric positive definite. */
  cov: Float64Array;
}

/**
 * Sample mean and covariance (divisor U − 1, or U for one user) of the vectors, plus
 * ridge·(trace/p)·I so the covariance stays invertible when users are fewer than p. A zero spread
 * falls back to the mean's scale, then to 1.
 */
export function estimatePopulationPrior(
  vectors: readonly Float64Array[],
  p: number,
  ridge = DEFAULT_COVARIANCE_RIDGE,
): PopulationPriorEstimate {
  if (vectors.length === 0) throw new TypeError("vectors: expected at least one vector");
  const mean = new Float64Array(p);
  for (const v of vectors) for (let i = 0; i < p; i++) mean[i] += v[i];
  for (let i = 0; i < p; i++) mean[i] /= vectors.length;
  const cov = new Float64Array(p * p);
  const deviation = new Float64Array(p);
  for (const v of vectors) {
    for (let i = 0; i < p; i++) deviation[i] = v[i] - mean[i];
    for (let i = 0; i < p; i++) {
      const di = deviation[i];
      for (let j = 0; j < p; j++) cov[i * p + j] += di * deviation[j];
    }
  }
  const divisor = Math.max(1, vectors.length - 1);
  let trace = 0;
  for (let i = 0; i < p * p; i++) cov[i] /= divisor;
  for (let i = 0; i < p; i++) trace += cov[i * p + i];
  let scale = trace / p;
  if (!(scale > 0)) {
    let meanSquared = 0;
    for (let i = 0; i < p; i++) meanSquared += mean[i] * mean[i];
    scale = meanSquared > 0 ? meanSquared / p : 1;
  }
  for (let i = 0; i < p; i++) cov[i * p + i] += ridge * scale;
  return { mean, cov };
}
