import { penalties } from "./estimators.js";
import { InvalidLogprobsError } from "./invalid-logprobs-error.js";
import { RewardOverflowError } from "./reward-overflow-error.js";
import type { ShapedRewards, ShapeFields, ShapeRewardsInput } from "./shape-types.js";

const DEFAULT_FIELDS: ShapeFields = {
  policy: "policy",
  ref: "ref",
  beta: "beta",
  reward: "reward",
};

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
