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
import { DEFAULT_NEWTON_CG, NewtonCgSolver } from "../../math/newton-cg.js";
import { deriveSeed, gaussianVector, SeededRandom } from "../../math/random.js";
import { thinQr } from "../../math/thin-qr.js";
import { userSlice } from "./delta-slice.js";
import { stackPairs } from "./delta-stack.js";
import { composeTheta, scoreStack } from "./head-evaluation.js";
import { initialTheta0, SEED_STREAM } from "./initial-factors.js";
import type { SharedData } from "./pair-data.js";
import { baseOffsets } from "./pair-offsets.js";
import { PairOperator } from "./pair-operator.js";
import { blockPenalty } from "./ridge.js";
import { RoundTracker } from "./round-tracker.js";
import type { ShareAModel } from "./shared-model.js";
import type { TrainSettings } from "./train-settings.js";
import { IdentityMap, LeftFactorMap, RightFactorMap, type UserMap } from "./user-maps.js";

const STEP_SETTINGS = { ...DEFAULT_NEWTON_CG, tolerance: 1e-5, maxIterations: 20 };

interface Snapshot {
  theta0: Float64Array;
  A: Float64Array;
  userB: Float64Array[];
}

export function trainShareA(data: SharedData, settings: TrainSettings): ShareAModel {
  const { d, m } = data;
  const { k, l2, l2Theta0, l2User, refitTheta0 } = settings;
  const tracker = new RoundTracker<Snapshot>(settings.patience, settings.onProgress);
  const train = stackPairs(
    data.users.map((u) => u.train),
    d,
    m,
  );
  const validation = stackPairs(
    data.users.map((u) => u.validation),
    d,
    m,
  );
  const q = d * m;
  const dk = d * k;
  const { theta0, A } = tracker.time("init", () => ({
    theta0: initialTheta0(train, settings),
    A: initialA(k, m, settings.seed),
  }));
  const userB = data.users.map(() => new Float64Array(dk));

  const personalPenalty = blockPenalty([[dk, l2User]]);
  const personal = data.users.map(
    (_, u) => new PairOperator(userSlice(train, u), [new RightFactorMap(d, k, m, [A])]),
  );
  const maps: UserMap[] = [new LeftFactorMap(d, k, m, userB)];
  if (refitTheta0) maps.unshift(new IdentityMap(d, m));
  const operator = new PairOperator(train, maps);
  const sharedPenalty = blockPenalty(
    refitTheta0
      ? [
          [q, l2Theta0],
          [k * m, l2],
        ]
      : [[k * m, l2]],
  );
  const sharedUnknowns = new Float64Array(operator.p);
  const solver = new NewtonCgSolver();
  const offsets = new Float64Array(train.n);

  const measure = () =>
    tracker.time("evaluation", () => {
      const fill = (u: number, out: Float64Array) =>
        composeTheta(theta0, userB[u], A, d, k, m, out);
      const fit = scoreStack(train, fill);
      const held = scoreStack(validation, fill);
      let penaltySum = l2Theta0 * squaredNorm(theta0) + l2 * squaredNorm(A);
      for (const b of userB) penaltySum += l2User * squaredNorm(b);
      return {
        objective: fit.logLikelihood - 0.5 * penaltySum,
        trainLogLikelihood: fit.n === 0 ? 0 : fit.logLikelihood / fit.n,
        validationLogLikelihood: held.n === 0 ? null : held.logLikelihood / held.n,
        validationAccuracy: held.n === 0 ? null : held.correct / held.n,
      };
    });
  const snapshot = (): Snapshot => ({
    theta0: Float64Array.from(theta0),
    A: Float64Array.from(A),
    userB: userB.map((b) => Float64Array.from(b)),
  });

  let stop = tracker.record(0, measure(), snapshot);
  for (let round = 1; round <= settings.maxRounds && !stop; round++) {
    baseOffsets(train, theta0, offsets);
    tracker.time("userStep", () => {
      personal.forEach((userOperator, u) => {
        const start = train.userStart[u];
        solver.solve(
          {
            operator: userOperator,
            offset: offsets.subarray(start, start + userOperator.n),
            penalty: personalPenalty,
          },
          userB[u],
          STEP_SETTINGS,
        );
      });
    });
    tracker.time("sharedStep", () => {
      if (refitTheta0) sharedUnknowns.set(theta0, 0);
      sharedUnknowns.set(A, refitTheta0 ? q : 0);
      solver.solve(
        { operator, offset: refitTheta0 ? null : offsets, penalty: sharedPenalty },
        sharedUnknowns,
        STEP_SETTINGS,
      );
      if (refitTheta0) theta0.set(sharedUnknowns.subarray(0, q));
      A.set(sharedUnknowns.subarray(refitTheta0 ? q : 0));
    });
    tracker.time("rebalance", () => rescale(A, userB, l2, l2User));
    stop = tracker.record(round, measure(), snapshot);
  }

  const { snapshot: best, report } = tracker.finish(settings.l2User);
  return {
    share: "A",
    d,
    m,
    k,
    users: data.users.map((u) => u.user),
    theta0: best.theta0,
    b0: 0,
    A: best.A,
    userB: best.userB,
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
