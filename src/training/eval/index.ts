export { ATTRIBUTE_SHAPE, attributeRows } from "./attribute-features.js";
export { type BayesReference, readBayesBeside } from "./bayes-reference.js";
export {
  type EvaluationOptions,
  type EvaluationResult,
  evaluate,
  type FeatureSet,
  FULL_RANKS,
  QUICK_RANKS,
  type RankPoint,
} from "./evaluate.js";
export { markdownReport } from "./markdown-report.js";
export {
  type CurveMethod,
  type CurveOptions,
  type CurveResult,
  DEFAULT_CURVE_NS,
  MIN_HELD_OUT,
  newUserCurve,
} from "./new-user-curve.js";
export type { MethodScore, SeenSettings } from "./seen-users.js";
export { accuracyPlot, type PlotSeries } from "./svg-plot.js";
