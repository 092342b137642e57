import { assertEstimator, type Estimator, tokenPenalty } from "./estimators.js";

/** The caller's names for the two log-prob arrays, used in error messages. */
export interface LogprobFields {
  readonly policy: string;
  readonly ref: string;
}

/** The caller's names for every input, used in error messages. */
export interface ShapeFields extends LogprobFields {
  readonly beta: string;
  readonly reward: string;
}

const DEFAULT_LOGPROB_FIELDS: LogprobFields = { policy: "policy", ref: "ref" };
const DEFAULT_FIELDS: ShapeFields = { ...DEFAULT_LOGPROB_FIELDS, beta: "beta", reward: "reward" };

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

/**
 * Raised when the inputs of reward shaping are unusable. `field` is the caller's name for the
 * offending input (e.g. "items[3].ref_logprobs"); `index` is the token position when one element
 * is at fault.
 */
export class InvalidLogprobsError extends Error {
  readonly code = "INVALID_LOGPROBS";
  readonly field: string;
  readonly index: number | undefined;

  constructor(field: string, message: string, index?: number) {
    super(`${index === undefined ? field : `${field}[${index}]`}: ${message}`);
    this.name = "InvalidLogprobsError";
    this.field = field;
    this.index = index;
  }
}

/** Raised when β·penalty or their sum leaves the float64 range (only with astronomically large β). */
export class RewardOverflowError extends Error {
  readonly code = "REWARD_OVERFLOW";
  readonly field: string;

  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = "RewardOverflowError";
    this.field = field;
  }
}

/** Per-token penalties; validates the log-probs and names `fields` in any InvalidLogprobsError. */
export function penalties(
  estimator: Estimator,
  policy: readonly number[],
  ref: readonly number[],
  fields: LogprobFields = DEFAULT_LOGPROB_FIELDS,
): Float64Array {
  assertEstimator(estimator);
  validateLogprobs(policy, ref, fields);
  const out = new Float64Array(policy.length);
  for (let t = 0; t < policy.length; t++) out[t] = tokenPenalty(estimator, policy[t]!, ref[t]!);
  return out;
}

/** Per-token PPO rewards: −β·penalty at every token, plus the sequence reward at the last one. */
export function shapeRewards(input: ShapeRewardsInput): ShapedRewards {
  const fields: ShapeFields = { ...DEFAULT_FIELDS, ...input.fields };
  const { reward, beta } = input;
  if (typeof beta !== "number" || !Number.isFinite(beta) || beta < 0) {
    throw new InvalidLogprobsError(fields.beta, `expected a finite β ≥ 0, got ${String(beta)}`);
  }
  if (typeof reward !== "number" || !Number.isFinite(reward)) {
    throw new InvalidLogprobsError(
      fields.reward,
      `expected a finite reward, got ${String(reward)}`,
    );
  }
  const pen = penalties(input.estimator, input.policy, input.ref, fields);
  const last = pen.length - 1;
  const shaped = new Array<number>(pen.length);
  let total = 0;
  for (let t = 0; t <= last; t++) {
    // β = 0 would give −0 for positive penalties; + 0 normalises it for JSON and equality checks.
    const value = -beta * pen[t]! + (t === last ? reward : 0) + 0;
    shaped[t] = value;
    total += value;
  }
  if (!Number.isFinite(total) || !shaped.every(Number.isFinite)) {
    throw new RewardOverflowError(
      fields.beta,
      "β·penalty or its sum over tokens overflows float64",
    );
  }
  return { penalties: Array.from(pen), shaped, total };
}

/** Throws InvalidLogprobsError unless both arrays are non-empty, equally long, finite and ≤ 0. */
function validateLogprobs(
  policy: readonly number[],
  ref: readonly number[],
  fields: LogprobFields,
): void {
  checkArray(policy, fields.policy);
  checkArray(ref, fields.ref);
  if (policy.length !== ref.length) {
    throw new InvalidLogprobsError(
      fields.ref,
      `expected ${policy.length} log-probabilities (as many as ${fields.policy}), got ${ref.length}`,
    );
  }
}

function checkArray(values: readonly number[], field: string): void {
  if (!Array.isArray(values)) {
    throw new InvalidLogprobsError(field, "expected an array of log-probabilities");
  }
  if (values.length === 0) {
    throw new InvalidLogprobsError(field, "expected at least one token log-probability");
  }
  for (let t = 0; t < values.length; t++) {
    const v = values[t];
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new InvalidLogprobsError(field, `expected a finite number, got ${String(v)}`, t);
    }
    if (v > 0) {
      throw new InvalidLogprobsError(field, `expected a log-probability ≤ 0, got ${v}`, t);
    }
  }
}
