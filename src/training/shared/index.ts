export {
  DEFAULT_L2,
  type GlobalHead,
  type GlobalOptions,
  pretrainGlobal,
  trainLocal,
} from "./global-head.js";
export { accuracy, composeTheta, type HeadParams, meanLogLikelihood } from "./head-evaluation.js";
export { INIT_MODES, type InitMode } from "./initial-factors.js";
export { concatPairs, deltaBlock, selectPairs } from "./pair-blocks.js";
export type {
  FeaturePairInput,
  PairBlock,
  SharedData,
  UserFeaturePairs,
  UserPairs,
} from "./pair-data.js";
export { personalTheta } from "./personal-theta.js";
export { estimatePopulationPrior, type PopulationPriorEstimate } from "./population-prior.js";
export type {
  PhaseSeconds,
  RoundRecord,
  ShareAModel,
  ShareBModel,
  SharedModel,
  ShareMode,
  StopReason,
  TrainReport,
  TrainSharedOptions,
} from "./shared-model.js";
export {
  buildSharedData,
  DEFAULT_VALIDATION_FRACTION,
  type SplitOptions,
  splitUserPairs,
  validationCount,
} from "./split-users.js";
export { trainShared } from "./train-shared.js";
