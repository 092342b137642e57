/**
 * The alternating fit of both share modes, Θ_u = Θ0 + L_u·R_u with one factor shared by every
 * user and the other personal. Each round (a) refits every personal factor with the shared one
 * and Θ0 fixed, (b) refits the shared factor, and Θ0 with it unless told otherwise, with every
 * personal factor fixed — one ridge logistic regression through the user maps, solved by
 * Newton–CG — and (c) rebalances the two factors, which keeps every product. The rounds stop
 * early on validation (RoundTracker), and the parameters of the best round are returned.
 */
import { squaredNorm } from "../../math/linalg.js";
import { DEFAULT_NEWTON_CG, NewtonCgSolver } from "../../math/newton-cg.js";
import { type DeltaStack, stackPairs } from "./delta-stack.js";
import { composeTheta, scoreStack } from "./head-evaluation.js";
import type { SharedData } from "./pair-data.js";
import { baseOffsets } from "./pair-offsets.js";
import { PairOperator } from "./pair-operator.js";
import { blockPenalty } from "./ridge.js";
import { RoundTracker } from "./round-tracker.js";
import type { TrainReport } from "./shared-model.js";
import type { TrainSettings } from "./train-settings.js";
import { IdentityMap, LeftFactorMap, RightFactorMap, type UserMap } from "./user-maps.js";

/** Block solves inside a round need not be exact: the next round moves the other factor anyway. */
export const STEP_SETTINGS = { ...DEFAULT_NEWTON_CG, tolerance: 1e-5, maxIterations: 20 };

export interface FactorParams {
  /** d×m. */
  theta0: Float64Array;
  shared: Float64Array;
  /** Per user. */
  personal: Float64Array[];
}

/** What tells the share modes apart. */
export interface ShareSpec {
  /**
   * "left": Θ_u = Θ0 + S·P_u with S d×k shared and P_u k×m personal (share B). "right":
   * Θ_u = Θ0 + P_u·S with P_u d×k personal and S k×m shared (share A).
   */
  sharedSide: "left" | "right";
  /** Θ0 and the shared factor of round 0 (every personal factor starts at 0). */
  initialize(train: DeltaStack): { theta0: Float64Array; shared: Float64Array };
  /**
   * The personal step (a): a function that overwrites every personal factor with its fit given
   * the shared factor as it then is and the offsets ⟨Θ0, Δ_j⟩ of the training pairs.
   */
  personalStep(
    train: DeltaStack,
    shared: Float64Array,
    personal: readonly Float64Array[],
  ): (offsets: Float64Array) => void;
  /** Step (c), in place. */
  rebalance(shared: Float64Array, personal: readonly Float64Array[]): void;
}

export interface AlternatingFit {
  best: FactorParams;
  report: TrainReport;
  /** The training pairs, stacked per user. */
  train: DeltaStack;
}

export function alternatingFit(
  data: SharedData,
  settings: TrainSettings,
  spec: ShareSpec,
): AlternatingFit {
  const { d, m } = data;
  const { k, l2, l2Theta0, l2User, refitTheta0 } = settings;
  const left = spec.sharedSide === "left";
  const tracker = new RoundTracker<FactorParams>(settings.patience, settings.onProgress);
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
  const { theta0, shared } = tracker.time("init", () => spec.initialize(train));
  const personal = data.users.map(() => new Float64Array(left ? k * m : d * k));
  const q = d * m;

  const personalStep = spec.personalStep(train, shared, personal);
  const maps: UserMap[] = [
    left ? new RightFactorMap(d, k, m, personal) : new LeftFactorMap(d, k, m, personal),
  ];
  if (refitTheta0) maps.unshift(new IdentityMap(d, m));
  const operator = new PairOperator(train, maps);
  const sharedSize = left ? d * k : k * m;
  const penalty = blockPenalty(
    refitTheta0
      ? [
          [q, l2Theta0],
          [sharedSize, l2],
        ]
      : [[sharedSize, l2]],
  );
  const sharedUnknowns = new Float64Array(operator.p);
  const solver = new NewtonCgSolver();
  const offsets = new Float64Array(train.n);

  const fill = left
    ? (u: number, out: Float64Array) => composeTheta(theta0, shared, personal[u], d, k, m, out)
    : (u: number, out: Float64Array) => composeTheta(theta0, personal[u], shared, d, k, m, out);
  const measure = () =>
    tracker.time("evaluation", () => {
      const fit = scoreStack(train, fill);
      const held = scoreStack(validation, fill);
      let penaltySum = l2Theta0 * squaredNorm(theta0) + l2 * squaredNorm(shared);
      for (const p of personal) penaltySum += l2User * squaredNorm(p);
      return {
        objective: fit.logLikelihood - 0.5 * penaltySum,
        trainLogLikelihood: fit.n === 0 ? 0 : fit.logLikelihood / fit.n,
        validationLogLikelihood: held.n === 0 ? null : held.logLikelihood / held.n,
        validationAccuracy: held.n === 0 ? null : held.correct / held.n,
      };
    });
  const snapshot = (): FactorParams => ({
    theta0: Float64Array.from(theta0),
    shared: Float64Array.from(shared),
    personal: personal.map((p) => Float64Array.from(p)),
  });

  let stop = tracker.record(0, measure(), snapshot);
  for (let round = 1; round <= settings.maxRounds && !stop; round++) {
    baseOffsets(train, theta0, offsets);
    tracker.time("userStep", () => personalStep(offsets));
    tracker.time("sharedStep", () => {
      if (refitTheta0) sharedUnknowns.set(theta0, 0);
      sharedUnknowns.set(shared, refitTheta0 ? q : 0);
      solver.solve(
        { operator, offset: refitTheta0 ? null : offsets, penalty },
        sharedUnknowns,
        STEP_SETTINGS,
      );
      if (refitTheta0) theta0.set(sharedUnknowns.subarray(0, q));
      shared.set(sharedUnknowns.subarray(refitTheta0 ? q : 0));
    });
    tracker.time("rebalance", () => spec.rebalance(shared, personal));
    stop = tracker.record(round, measure(), snapshot);
  }

  const { snapshot: best, report } = tracker.finish(settings.l2User);
  return { best, report, train };
}

/** The fields both models begin with, in the order they are written out. */
export function modelHeader(data: SharedData, k: number, theta0: Float64Array) {
  return { d: data.d, m: data.m, k, users: data.users.map((u) => u.user), theta0, b0: 0 };
}
