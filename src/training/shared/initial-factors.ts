/**
 * Starting points of the alternating fit.
 * - global (G): Θ0 = the converged global head; B = the top-k left singular vectors of the users'
 *   log-likelihood gradients at Θ0, G_u = Σ_j σ(−⟨Θ0, Δ_j⟩)·Δ_j (d×m, stacked side by side into
 *   d × U·m). Each G_u is, to first order, the direction user u's own fit would move Θ0
 *   (for large ridge the per-user ridge solution is G_u/λ), so span(B·W_u) ⊂ span(B*) shows up
 *   as the dominant column space; the gradients are one pass over the data, whereas per-user
 *   ridge solutions would need U fits of d·m unknowns from few pairs each.
 * - warmup (WU): the same, from a global head stopped after a few Newton steps.
 * - random (SI): Θ0 = 0 and B random with orthonormal columns.
 */
import { dot } from "../../math/linalg.js";
import { sigmoid } from "../../math/logistic.js";
import { deriveSeed, gaussianVector, SeededRandom } from "../../math/random.js";
import { thinQr } from "../../math/thin-qr.js";
import { topLeftSingularVectors } from "../../math/top-singular-vectors.js";
import type { DeltaStack } from "./delta-stack.js";
import { fitGlobalHead } from "./global-head.js";

export type InitMode = "global" | "warmup" | "random";

export const INIT_MODES: readonly InitMode[] = ["global", "warmup", "random"];

/** Random streams derived from the trainer's seed. */
export const SEED_STREAM = { basis: 1, subspace: 2, shareA: 3 } as const;

export interface InitialFactors {
  theta0: Float64Array;
  /** d×k, orthonormal columns. */
  B: Float64Array;
}

export interface InitSettings {
  init: InitMode;
  k: number;
  l2Theta0: number;
  warmupIterations: number;
  seed: number;
  fixedTheta0?: Float64Array;
}

export function initialFactors(stack: DeltaStack, settings: InitSettings): InitialFactors {
  const { d, m } = stack;
  const { init, k, seed } = settings;
  const theta0 = initialTheta0(stack, settings);
  if (init === "random") return { theta0, B: randomOrthonormal(d, k, seed) };
  const gradients = userGradients(stack, theta0);
  const random = new SeededRandom(deriveSeed(seed, SEED_STREAM.subspace));
  return { theta0, B: topLeftSingularVectors(gradients, d, stack.users * m, k, random) };
}

export function initialTheta0(
  stack: DeltaStack,
  settings: Pick<InitSettings, "init" | "l2Theta0" | "warmupIterations" | "fixedTheta0">,
): Float64Array {
  if (settings.fixedTheta0 !== undefined) return Float64Array.from(settings.fixedTheta0);
  if (settings.init === "random") return new Float64Array(stack.d * stack.m);
  return fitGlobalHead(stack, {
    l2: settings.l2Theta0,
    ...(settings.init === "warmup" ? { maxIterations: settings.warmupIterations } : {}),
  }).theta0;
}

export function randomOrthonormal(rows: number, cols: number, seed: number): Float64Array {
  const random = new SeededRandom(deriveSeed(seed, SEED_STREAM.basis));
  return thinQr(gaussianVector(random, rows * cols), rows, cols).q;
}

/** d × (U·m) row-major: column u·m + c is column c of G_u. */
function userGradients(stack: DeltaStack, theta0: Float64Array): Float64Array {
  const { d, m, users, userStart, deltas } = stack;
  const q = d * m;
  const cols = users * m;
  const out = new Float64Array(d * cols);
  for (let u = 0; u < users; u++) {
    for (let j = userStart[u]; j < userStart[u + 1]; j++) {
      const row = j * q;
      const residual = sigmoid(-dot(deltas, row, theta0, 0, q));
      for (let i = 0; i < d; i++) {
        for (let c = 0; c < m; c++) out[i * cols + u * m + c] += residual * deltas[row + i * m + c];
      }
    }
  }
  return out;
}
