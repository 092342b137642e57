import type { Estimator } from "./estimators.js";
import type { LogprobFields } from "./validate-logprobs.js";

/** The caller's names for every input, used in error messages. */
export interface ShapeFields extends LogprobFields {
  readonly beta: string;
  readonly reward: string;
}

export interface ShapeRewardsInput {
  /** Sequence-level reward, added at the last token. */
  readonly reward: number;
  /** logπ of each sampled response token (≤ 0). */
  readonly policy: readonly number[];
  /** logπ_ref of the same tokens (≤ 0). */
  readonly ref: readonly number[];
  readonly estimator: Estimator;
  /** Penalty coefficient β ≥ 0. */
  readonly beta: number;
  readonly fields?: Partial<ShapeFields>;
}

export interface ShapedRewards {
  readonly penalties: number[];
  /** shaped[t] = −β·penalties[t], plus the reward at the last token. */
  readonly shaped: number[];
  /** Σ shaped, summed left to right exactly as listed. */
  readonly total: number;
}
