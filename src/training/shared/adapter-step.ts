/**
 * The personal step of share B: with Θ0 and B fixed, each W_i is an independent convex logistic
 * regression with offsets o_j = ⟨Θ0, Δ_j⟩ and features g_j = vec(BᵀΔ_j) (k·m), fitted by the
 * per-user fitter under the isotropic prior N(0, I/λ_W). Feature buffers are allocated once.
 */
import { LogisticNewtonSolver } from "../../math/logistic-newton.js";
import { addTransposedProduct } from "../../math/matrix-product.js";
import { fitWithShape, newtonSettings, type PriorShape, priorShape } from "../logistic-fit.js";
import type { DeltaStack } from "./delta-stack.js";

export class AdapterStep {
  readonly #stack: DeltaStack;
  readonly #k: number;
  readonly #lambda: number;
  readonly #features: Float64Array[];
  readonly #shape: PriorShape;
  readonly #solver: LogisticNewtonSolver;
  readonly #settings = newtonSettings({});

  constructor(stack: DeltaStack, k: number, lambda: number) {
    this.#stack = stack;
    this.#k = k;
    this.#lambda = lambda;
    const p = k * stack.m;
    let largest = 0;
    this.#features = Array.from({ length: stack.users }, (_, u) => {
      const n = stack.userStart[u + 1] - stack.userStart[u];
      largest = Math.max(largest, n);
      return new Float64Array(n * p);
    });
    this.#shape = priorShape({ kind: "isotropic" }, p);
    this.#solver = new LogisticNewtonSolver(p, largest);
  }

  /** Overwrites every W[u] with its MAP fit given B and the offsets ⟨Θ0, Δ_j⟩ (length stack.n). */
  run(B: Float64Array, offsets: Float64Array, W: readonly Float64Array[]): void {
    const { d, m, userStart, deltas } = this.#stack;
    const k = this.#k;
    const p = k * m;
    const q = d * m;
    for (let u = 0; u < this.#stack.users; u++) {
      const start = userStart[u];
      const n = userStart[u + 1] - start;
      const g = this.#features[u];
      g.fill(0);
      for (let j = 0; j < n; j++)
        addTransposedProduct(B, d, k, m, deltas, (start + j) * q, g, j * p);
      const fit = fitWithShape(
        { g, o: offsets.subarray(start, start + n), n, p },
        this.#shape,
        this.#lambda,
        this.#settings,
        W[u],
        this.#solver,
      );
      W[u].set(fit.w);
    }
  }
}
