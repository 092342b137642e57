/**
 * Ablation: a shared A (k×m) and personal B_i (d×k), Θ_i = Θ0 + B_i·A. Each round (a) refits
 * every B_i with A fixed (d·k unknowns from one user's pairs, strongly ridge-penalized, Newton–CG),
 * (b) refits A, and Θ0 with it unless told otherwise, with every B_i fixed, and (c) rescales
 * A → c·A, B_i → B_i/c to the c minimizing the penalty. The objective
 *   Σ log-likelihood − ½λ0‖Θ0‖² − ½λ_A‖A‖² − ½λ_user Σ‖B_i‖²
 * never decreases. Since rank(B_i·A) ≤ m, each user moves within an m-dimensional subspace of
 * their own, whose shared part is only A's row space.
 */
import { squaredNorm } from "../../math/linalg.js";
import { NewtonCgSolver } from "../../math/newton-cg.js";
import { deriveSeed, gaussianVector, SeededRandom } from "../../math/random.js";
import { thinQr } from "../../math/thin-qr.js";
import { alternatingFit, modelHeader, STEP_SETTINGS } from "./alternating-fit.js";
import { userSlice } from "./delta-slice.js";
import { initialTheta0, SEED_STREAM } from "./initial-factors.js";
import type { SharedData } from "./pair-data.js";
import { PairOperator } from "./pair-operator.js";
import { blockPenalty } from "./ridge.js";
import type { ShareAModel } from "./shared-model.js";
import type { TrainSettings } from "./train-settings.js";
import { RightFactorMap } from "./user-maps.js";

export function trainShareA(data: SharedData, settings: TrainSettings): ShareAModel {
  const { d, m } = data;
  const { k, l2, l2User } = settings;
  const { best, report } = alternatingFit(data, settings, {
    sharedSide: "right",
    initialize: (stack) => ({
      theta0: initialTheta0(stack, settings),
      shared: initialA(k, m, settings.seed),
    }),
    personalStep: (stack, A, userB) => {
      const penalty = blockPenalty([[d * k, l2User]]);
      const operators = userB.map(
        (_, u) => new PairOperator(userSlice(stack, u), [new RightFactorMap(d, k, m, [A])]),
      );
      const solver = new NewtonCgSolver();
      return (offsets) => {
        operators.forEach((operator, u) => {
          const start = stack.userStart[u];
          solver.solve(
            { operator, offset: offsets.subarray(start, start + operator.n), penalty },
            userB[u],
            STEP_SETTINGS,
          );
        });
      };
    },
    rebalance: (A, userB) => rescale(A, userB, l2, l2User),
  });
  return {
    share: "A",
    ...modelHeader(data, k, best.theta0),
    A: best.shared,
    userB: best.personal,
    report,
  };
}

/** k×m, orthonormal columns when k ≥ m (else orthonormal rows), seeded. */
function initialA(k: number, m: number, seed: number): Float64Array {
  const a = gaussianVector(new SeededRandom(deriveSeed(seed, SEED_STREAM.shareA)), k * m);
  if (k >= m) return thinQr(a, k, m).q;
  const transposed = new Float64Array(m * k);
  for (let r = 0; r < k; r++) for (let c = 0; c < m; c++) transposed[c * k + r] = a[r * m + c];
  const qt = thinQr(transposed, m, k).q;
  for (let r = 0; r < k; r++) for (let c = 0; c < m; c++) a[r * m + c] = qt[c * k + r];
  return a;
}

/** A → c·A, B_i → B_i/c with c² = √(λ_user Σ‖B_i‖² / (λ_A‖A‖²)), the penalty's minimizer. */
function rescale(
  A: Float64Array,
  userB: readonly Float64Array[],
  lambdaA: number,
  lambdaUser: number,
): void {
  const aSquared = squaredNorm(A);
  let bSquared = 0;
  for (const b of userB) bSquared += squaredNorm(b);
  if (!(aSquared > 0) || !(bSquared > 0)) return;
  const c = Math.sqrt(Math.sqrt((lambdaUser * bSquared) / (lambdaA * aSquared)));
  for (let i = 0; i < A.length; i++) A[i] *= c;
  for (const b of userB) for (let i = 0; i < b.length; i++) b[i] /= c;
}
