/**
 * P-ShareLoRA with a shared B (d×k) and personal W_i (k×m): Θ_i = Θ0 + B·W_i. Each round
 * (a) refits every W_i with B fixed (AdapterStep), (b) refits B, and Θ0 with it unless told
 * otherwise, with every W_i fixed — one logistic regression in d·k (+ d·m) unknowns through the
 * identity ⟨B·W_i, Δ_j⟩ = ⟨B, Δ_j·W_iᵀ⟩, solved by Newton–CG — and (c) rebalances B and the W_i,
 * which keeps each B·W_i. Every step is exact block ascent (or a penalty decrease) on
 *   Σ log-likelihood − ½λ0‖Θ0‖² − ½λ_B‖B‖² − ½λ_W Σ‖W_i‖²,
 * so that objective never decreases; the returned parameters are those of the round with the best
 * validation log-likelihood, with B rotated to orthonormal principal directions.
 */

import { squaredNorm } from "../../math/linalg.js";
import { DEFAULT_NEWTON_CG, NewtonCgSolver } from "../../math/newton-cg.js";
import { AdapterStep } from "./adapter-step.js";
import { stackPairs } from "./delta-stack.js";
import { balanceFactors, principalFactors } from "./factor-balance.js";
import { composeTheta, scoreStack } from "./head-evaluation.js";
import { initialFactors } from "./initial-factors.js";
import type { SharedData } from "./pair-data.js";
import { baseOffsets } from "./pair-offsets.js";
import { PairOperator } from "./pair-operator.js";
import { estimatePopulationPrior } from "./population-prior.js";
import { blockPenalty } from "./ridge.js";
import { RoundTracker } from "./round-tracker.js";
import type { ShareBModel } from "./shared-model.js";
import type { TrainSettings } from "./train-settings.js";
import { IdentityMap, RightFactorMap, type UserMap } from "./user-maps.js";

/** Block solves inside a round need not be exact: the next round moves the other factor anyway. */
const SHARED_STEP_SETTINGS = { ...DEFAULT_NEWTON_CG, tolerance: 1e-5, maxIterations: 20 };

interface Snapshot {
  theta0: Float64Array;
  B: Float64Array;
  W: Float64Array[];
}

export function trainShareB(data: SharedData, settings: TrainSettings): ShareBModel {
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
  const { theta0, B } = tracker.time("init", () => initialFactors(train, settings));
  const W = data.users.map(() => new Float64Array(k * m));
  const q = d * m;
  const dk = d * k;

  const adapters = new AdapterStep(train, k, l2User);
  const maps: UserMap[] = [new RightFactorMap(d, k, m, W)];
  if (refitTheta0) maps.unshift(new IdentityMap(d, m));
  const operator = new PairOperator(train, maps);
  const penalty = blockPenalty(
    refitTheta0
      ? [
          [q, l2Theta0],
          [dk, l2],
        ]
      : [[dk, l2]],
  );
  const sharedUnknowns = new Float64Array(operator.p);
  const solver = new NewtonCgSolver();
  const offsets = new Float64Array(train.n);

  const measure = () =>
    tracker.time("evaluation", () => {
      const fill = (u: number, out: Float64Array) => composeTheta(theta0, B, W[u], d, k, m, out);
      const fit = scoreStack(train, fill);
      const held = scoreStack(validation, fill);
      let penaltySum = l2Theta0 * squaredNorm(theta0) + l2 * squaredNorm(B);
      for (const w of W) penaltySum += l2User * squaredNorm(w);
      return {
        objective: fit.logLikelihood - 0.5 * penaltySum,
        trainLogLikelihood: fit.n === 0 ? 0 : fit.logLikelihood / fit.n,
        validationLogLikelihood: held.n === 0 ? null : held.logLikelihood / held.n,
        validationAccuracy: held.n === 0 ? null : held.correct / held.n,
      };
    });
  const snapshot = (): Snapshot => ({
    theta0: Float64Array.from(theta0),
    B: Float64Array.from(B),
    W: W.map((w) => Float64Array.from(w)),
  });

  let stop = tracker.record(0, measure(), snapshot);
  for (let round = 1; round <= settings.maxRounds && !stop; round++) {
    baseOffsets(train, theta0, offsets);
    tracker.time("userStep", () => adapters.run(B, offsets, W));
    tracker.time("sharedStep", () => {
      if (refitTheta0) sharedUnknowns.set(theta0, 0);
      sharedUnknowns.set(B, refitTheta0 ? q : 0);
      solver.solve(
        { operator, offset: refitTheta0 ? null : offsets, penalty },
        sharedUnknowns,
        SHARED_STEP_SETTINGS,
      );
      if (refitTheta0) theta0.set(sharedUnknowns.subarray(0, q));
      B.set(sharedUnknowns.subarray(refitTheta0 ? q : 0));
    });
    tracker.time("rebalance", () => balanceFactors(B, W, d, k, m, l2, l2User));
    stop = tracker.record(round, measure(), snapshot);
  }

  const { snapshot: best, report } = tracker.finish(settings.l2User);
  const principal = principalFactors(best.B, best.W, d, k, m);
  // A user without training pairs sits at W = 0 by construction and says nothing about the population.
  const informative = principal.coefficients.filter(
    (_, u) => train.userStart[u + 1] > train.userStart[u],
  );
  return {
    share: "B",
    d,
    m,
    k,
    users: data.users.map((u) => u.user),
    theta0: best.theta0,
    b0: 0,
    B: principal.basis,
    W: principal.coefficients,
    prior: estimatePopulationPrior(
      informative.length > 0 ? informative : principal.coefficients,
      k * m,
    ),
    report,
  };
}
