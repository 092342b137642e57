/**
 * A fixed preconditioner for Newton–CG on a dense pair stack: P = ¼·ΔᵀΔ + Λ, factored once.
 * Bradley–Terry curvatures σ(z)σ(−z) never exceed ¼, so P bounds every Newton Hessian from
 * above and matches it where the fit is unsure; with correlated feature rows (log-counts of
 * overlapping byte classes) it cuts the CG iterations that the diagonal leaves.
 */
import { addWeightedOuterLower4, choleskyInPlace, choleskySolve } from "../../math/linalg.js";
import type { Preconditioner } from "../../math/newton-cg.js";
import type { DeltaStack } from "./delta-stack.js";

const MAX_CURVATURE = 0.25;
/** Past this many unknowns the dense q×q factor costs more than it saves. */
export const GRAM_PRECONDITIONER_MAX_UNKNOWNS = 2048;

/** Worth building when there are at least as many pairs as unknowns, and q is small enough. */
export function gramPreconditionerPays(stack: DeltaStack): boolean {
  const q = stack.d * stack.m;
  return q <= GRAM_PRECONDITIONER_MAX_UNKNOWNS && stack.n >= q;
}

export class GramPreconditioner implements Preconditioner {
  readonly #q: number;
  readonly #factor: Float64Array;

  constructor(stack: DeltaStack, penalty: Float64Array) {
    const q = stack.d * stack.m;
    if (penalty.length !== q) throw new TypeError(`penalty: expected length d·m = ${q}`);
    const gram = new Float64Array(q * q);
    const { deltas, n } = stack;
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      addWeightedOuterLower4(
        gram,
        q,
        deltas,
        j * q,
        MAX_CURVATURE,
        (j + 1) * q,
        MAX_CURVATURE,
        (j + 2) * q,
        MAX_CURVATURE,
        (j + 3) * q,
        MAX_CURVATURE,
      );
    }
    for (; j < n; j++) {
      addWeightedOuterLower4(gram, q, deltas, j * q, MAX_CURVATURE, 0, 0, 0, 0, 0, 0);
    }
    for (let i = 0; i < q; i++) gram[i * q + i] += penalty[i];
    this.#q = q;
    this.#factor = choleskyInPlace(gram, q);
  }

  apply(residual: Float64Array, out: Float64Array): void {
    choleskySolve(this.#factor, this.#q, residual, out);
  }
}
