import { addToDiagonal, inverseFromCholesky, trace } from "../../math/linalg.js";
import type { HeadPrior } from "../../model/head-file.js";
import { DEFAULT_COVARIANCE_RIDGE } from "../logistic-fit.js";
import type { QueryBelief } from "./query-selection.js";

/** The Laplace posterior N(W, H⁻¹) of a fitted user, from the Cholesky factor of H. */
export function posteriorBelief(
  W: ArrayLike<number>,
  cholesky: Float64Array,
  p: number,
): QueryBelief {
  return {
    mean: Float64Array.from(W as ArrayLike<number>),
    covariance: inverseFromCholesky(cholesky, p),
  };
}

/**
 * What is known of a user without an adapter: the spread of the head's population prior as an
 * onboarding fit uses it (cov + ε·I at τ = 1), or N(·, I/λ₀) without one, around W = 0, the
 * global reward such a user is served.
 */
export function priorBelief(prior: HeadPrior | undefined, p: number, lambda: number): QueryBelief {
  const mean = new Float64Array(p);
  if (prior === undefined) {
    const covariance = new Float64Array(p * p);
    for (let i = 0; i < p; i++) covariance[i * p + i] = 1 / lambda;
    return { mean, covariance };
  }
  const covariance = Float64Array.from(prior.cov);
  addToDiagonal(covariance, p, (DEFAULT_COVARIANCE_RIDGE * trace(prior.cov, p)) / p);
  return { mean, covariance };
}
