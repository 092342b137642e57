import type { InitMode } from "./initial-factors.js";
import type { PopulationPriorEstimate } from "./population-prior.js";

export type ShareMode = "B" | "A";

export interface TrainSharedOptions {
  /** k: columns of B (share B) or rows of A (share A). */
  rank: number;
  /** "B" (default): the method, shared B and personal W_i. "A": the ablation. */
  share?: ShareMode;
  /** Default "global". */
  init?: InitMode;
  /** Ridge on the shared factor (B or A) (default DEFAULT_L2 = 10). */
  l2?: number;
  /** Ridge on Θ0 (default l2). */
  l2Theta0?: number;
  /**
   * Ridge on the personal factor: W_i (default l2) or B_i (default 10·l2). For share B only
   * √(l2·l2User) matters at the optimum: the balanced penalty is 2√(l2·l2User)·‖[B·W_1 … B·W_U]‖_*.
   */
  l2User?: number;
  /** Refit Θ0 jointly with the shared factor in each round (default true). */
  refitTheta0?: boolean;
  /**
   * Θ0 (d×m) held fixed throughout, e.g. an imported reward model's own head: no global fit is
   * run, B starts from the users' gradients at this Θ0, and refitTheta0 is off.
   */
  fixedTheta0?: Float64Array;
  /**
   * Fits again with a stronger l2User (×3 each time) while no round beats the global head on
   * validation, at most this many times (default 3; 0 never).
   */
  userRidgeRetries?: number;
  /** Default 0. */
  seed?: number;
  /** Alternating rounds at most (default 20). */
  maxRounds?: number;
  /** Rounds without a better validation log-likelihood before stopping (default 2). */
  patience?: number;
  /** Newton steps of the warm-up global head for init "warmup" (default 2). */
  warmupIterations?: number;
  onProgress?: (record: RoundRecord) => void;
}

export interface RoundRecord {
  /** 0 is the initialization (W = 0, or B_i = 0). */
  round: number;
  /** Σ train log-likelihood − ½λ0‖Θ0‖² − ½λ‖shared‖² − ½λ_user Σ‖personal‖². */
  objective: number;
  /** Mean per training pair. */
  trainLogLikelihood: number;
  /** Mean per validation pair; null without validation pairs. */
  validationLogLikelihood: number | null;
  validationAccuracy: number | null;
  /** Since the start of training. */
  seconds: number;
}

export interface PhaseSeconds {
  init: number;
  /** Personal factors (W_i or B_i). */
  userStep: number;
  /** Shared factor (B or A), with Θ0 when refit. */
  sharedStep: number;
  rebalance: number;
  evaluation: number;
  total: number;
}

export type StopReason = "patience" | "converged" | "max-rounds";

export interface TrainReport {
  /** Alternating rounds run. */
  rounds: number;
  /** The round whose parameters were kept: best validation log-likelihood, else the last. */
  bestRound: number;
  stopReason: StopReason;
  history: RoundRecord[];
  validationLogLikelihood: number | null;
  validationAccuracy: number | null;
  seconds: PhaseSeconds;
  /** The personal ridge of the kept fit. */
  l2User: number;
  /** Every personal ridge fitted, in order (more than one when the first never beat round 0). */
  l2UserTried: number[];
}

interface ModelBase {
  d: number;
  m: number;
  k: number;
  /** User ids, in the order of the per-user arrays. */
  users: string[];
  /** d×m. */
  theta0: Float64Array;
  /** Always 0 (it cancels in pairwise differences). */
  b0: number;
  report: TrainReport;
}

/** Θ_i = Θ0 + B·W_i. */
export interface ShareBModel extends ModelBase {
  share: "B";
  /** d×k with orthonormal columns, ordered by decreasing weight across users. */
  B: Float64Array;
  /** Per user, k×m. */
  W: Float64Array[];
  /** N(mean, cov) of the users' vec(W_i), with a small ridge on cov. */
  prior: PopulationPriorEstimate;
}

/** Θ_i = Θ0 + B_i·A (ablation). */
export interface ShareAModel extends ModelBase {
  share: "A";
  /** k×m. */
  A: Float64Array;
  /** Per user, d×k. */
  userB: Float64Array[];
}

export type SharedModel = ShareBModel | ShareAModel;
