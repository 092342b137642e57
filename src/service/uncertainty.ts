import type { AdapterPosterior } from "../adapters/types.js";
import { inverseQuadraticForm } from "../math/linalg.js";

/** The prior precision of W for a user without a posterior: W ~ N(0, I/λ₀). */
export const PRIOR_LAMBDA = 1;

/**
 * σ(x) = sqrt(xᵀ H⁻¹ x): the posterior standard deviation of ⟨W, x⟩ under the user's Laplace
 * posterior (H = LLᵀ), or under the prior I/λ₀ without one.
 */
export class Uncertainty {
  readonly #scratch: Float64Array<ArrayBuffer>;

  constructor(p: number) {
    if (!Number.isSafeInteger(p) || p < 1) {
      throw new TypeError(`expected p to be a positive integer, got ${p}`);
    }
    this.#scratch = new Float64Array(p);
  }

  sigma(posterior: AdapterPosterior | undefined, x: Float32Array): number {
    if (posterior) {
      return Math.sqrt(
        inverseQuadraticForm(posterior.cholesky, this.#scratch.length, x, this.#scratch),
      );
    }
    let sum = 0;
    for (let i = 0; i < x.length; i++) sum += x[i]! * x[i]!;
    return Math.sqrt(sum / PRIOR_LAMBDA);
  }
}
