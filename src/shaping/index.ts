export {
  assertEstimator,
  ESTIMATORS,
  type Estimator,
  K3_MAX_LOG_RATIO,
  penalties,
  tokenPenalty,
} from "./estimators.js";
export { InvalidLogprobsError } from "./invalid-logprobs-error.js";
export { RewardOverflowError } from "./reward-overflow-error.js";
export { shapeRewards } from "./shape.js";
export type { ShapedRewards, ShapeFields, ShapeRewardsInput } from "./shape-types.js";
export type { LogprobFields } from "./validate-logprobs.js";
