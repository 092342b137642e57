/**
 * `--rank auto`: k chosen from a grid by each user's validation pairs. Every k of the grid is fitted
 * on the same split (the features and the split are computed once), independently of the others,
 * so the model kept for the chosen k is exactly the one `--rank k` trains. The rule against noise:
 * the smallest k whose mean per-pair validation log-likelihood is within half a standard error of
 * the best k's, the standard error taken over the per-pair differences against the best k (both
 * are scored on the same pairs, so the pairing cancels the pairs' own difficulty). Half, not the
 * usual one: in the rank study (docs/training.md) the one-SE rule chose k below the planted rank
 * often enough to cost up to 2.0 points of held-out accuracy against half an SE (2.8 against the
 * best k outright), while half an SE stayed within the intervals of the best k outright.
 */
import { dot } from "../math/linalg.js";
import { logSigmoid } from "../math/logistic.js";
import {
  composeTheta,
  type SharedData,
  type SharedModel,
  type TrainSharedOptions,
  trainShared,
} from "./shared/index.js";

/** A forced k, or "auto": chosen by the users' validation pairs. */
export type RankOption = number | "auto";

/** The ranks `--rank auto` chooses from, before the cap. */
export const RANK_GRID = [1, 2, 4, 8, 16, 32] as const;

export const RANK_CAP_RULE =
  "k ≤ d; k ≤ U·m (B·[W_1 … W_U] has rank at most U·m); k·m ≤ the median user's training pairs (W_i has k·m unknowns)";
/** Standard errors below the best that a smaller k may be, and still be chosen. */
export const RULE_STANDARD_ERRORS = 0.5;
/** The rule in words, for `standardErrors` standard errors (RULE_STANDARD_ERRORS by default). */
export function rankSelectionRule(standardErrors = RULE_STANDARD_ERRORS): string {
  return `the smallest k whose mean validation log-likelihood per pair is within ${standardErrorsInWords(standardErrors)} of the best k's (SE of the per-pair differences against the best k)`;
}

function standardErrorsInWords(count: number): string {
  if (count === 0.5) return "half a standard error";
  if (count === 1) return "one standard error";
  return `${count} standard errors`;
}

export interface RankCurvePoint {
  k: number;
  /** Mean log σ(⟨Θ_u, Δ_j⟩) over every user's validation pairs. */
  validationLogLikelihood: number;
  /** Standard error of the mean per-pair difference against the best k (0 for the best k). */
  standardError: number;
  validationAccuracy: number;
  /** The personal ridge the fit kept (see trainShared's escalation). */
  l2User: number;
  rounds: number;
  seconds: number;
}

export interface RankSelection {
  chosen: number;
  /** The k with the highest mean validation log-likelihood. */
  best: number;
  grid: number[];
  cap: { k: number; rule: string; d: number; users: number; m: number; medianTrainPairs: number };
  rule: string;
  /** One line saying which k and why. */
  reason: string;
  curve: RankCurvePoint[];
  validationPairs: number;
}

export interface SelectedRank {
  model: SharedModel;
  selection: RankSelection;
  /** Every k's model, in grid order (for studies that score them all). */
  models: SharedModel[];
}

export interface RankSelectionOptions {
  grid?: readonly number[];
  /** How many standard errors below the best a smaller k may be (default RULE_STANDARD_ERRORS). */
  standardErrors?: number;
  /** Told before each k is fitted. */
  onRank?: (k: number, index: number, count: number) => void;
}

/** The largest k the data can identify, by RANK_CAP_RULE (at least 1). */
export function rankCap(data: SharedData): RankSelection["cap"] {
  const { d, m } = data;
  const counts = data.users.map((u) => u.train.count).sort((a, b) => a - b);
  const mid = counts.length >> 1;
  const median = counts.length % 2 === 1 ? counts[mid]! : (counts[mid - 1]! + counts[mid]!) / 2;
  const users = data.users.length;
  const k = Math.max(1, Math.min(d, users * m, Math.floor(median / m)));
  return { k, rule: RANK_CAP_RULE, d, users, m, medianTrainPairs: median };
}

/** log σ(⟨Θ_u, Δ_j⟩) and whether the pair is ordered right (ties ½), for every validation pair. */
export function validationScores(
  data: SharedData,
  model: SharedModel,
): { logLikelihood: Float64Array; correct: Float64Array } {
  const { d, m, k } = model;
  const q = d * m;
  const n = data.users.reduce((s, u) => s + u.validation.count, 0);
  const logLikelihood = new Float64Array(n);
  const correct = new Float64Array(n);
  const theta = new Float64Array(q);
  let row = 0;
  data.users.forEach((u, index) => {
    if (u.validation.count === 0) return;
    if (model.share === "B") composeTheta(model.theta0, model.B, model.W[index]!, d, k, m, theta);
    else composeTheta(model.theta0, model.userB[index]!, model.A, d, k, m, theta);
    for (let j = 0; j < u.validation.count; j++, row++) {
      const z = dot(u.validation.deltas, j * q, theta, 0, q);
      logLikelihood[row] = logSigmoid(z);
      correct[row] = z > 0 ? 1 : z === 0 ? 0.5 : 0;
    }
  });
  return { logLikelihood, correct };
}

/** Fits every k of the capped grid on `data` and keeps the one rankSelectionRule() describes. */
export function selectRank(
  data: SharedData,
  options: Omit<TrainSharedOptions, "rank">,
  selectionOptions: RankSelectionOptions = {},
): SelectedRank {
  const cap = rankCap(data);
  const grid = [...(selectionOptions.grid ?? RANK_GRID)].filter((k) => k <= cap.k);
  if (grid.length === 0) grid.push(1);
  const fits = grid.map((k, index) => {
    selectionOptions.onRank?.(k, index, grid.length);
    const started = performance.now();
    const model = trainShared(data, { ...options, rank: k });
    return {
      model,
      seconds: (performance.now() - started) / 1000,
      scores: validationScores(data, model),
    };
  });
  const n = fits[0]!.scores.logLikelihood.length;
  const means = fits.map((f) => mean(f.scores.logLikelihood));
  let bestIndex = 0;
  for (let i = 1; i < grid.length; i++) if (means[i]! > means[bestIndex]!) bestIndex = i;
  const best = fits[bestIndex]!.scores.logLikelihood;
  const errors = fits.map((f) => pairedStandardError(f.scores.logLikelihood, best));
  const standardErrors = selectionOptions.standardErrors ?? RULE_STANDARD_ERRORS;
  const chosenIndex = n === 0 ? 0 : ruleIndex(means, errors, bestIndex, standardErrors);
  const curve: RankCurvePoint[] = fits.map((f, i) => ({
    k: grid[i]!,
    validationLogLikelihood: n === 0 ? Number.NaN : means[i]!,
    standardError: errors[i]!,
    validationAccuracy: n === 0 ? Number.NaN : mean(f.scores.correct),
    l2User: f.model.report.l2User,
    rounds: f.model.report.rounds,
    seconds: f.seconds,
  }));
  const chosen = grid[chosenIndex]!;
  const bestK = grid[bestIndex]!;
  const selection: RankSelection = {
    chosen,
    best: bestK,
    grid,
    cap,
    rule: rankSelectionRule(standardErrors),
    reason: reasonLine(curve, chosenIndex, bestIndex, cap.k, n, standardErrors),
    curve,
    validationPairs: n,
  };
  return { model: fits[chosenIndex]!.model, selection, models: fits.map((f) => f.model) };
}

/** The smallest k whose mean is within `c` paired standard errors of the best (c = 0: the best). */
function ruleIndex(
  means: readonly number[],
  errors: readonly number[],
  best: number,
  c: number,
): number {
  return means.findIndex((mu, i) => i === best || mu >= means[best]! - c * errors[i]!);
}

/** The k the rule with `c` standard errors picks from a computed curve (for studies of the rule). */
export function rankByRule(curve: readonly RankCurvePoint[], c: number): number {
  let best = 0;
  for (let i = 1; i < curve.length; i++) {
    if (curve[i]!.validationLogLikelihood > curve[best]!.validationLogLikelihood) best = i;
  }
  const means = curve.map((p) => p.validationLogLikelihood);
  return curve[
    ruleIndex(
      means,
      curve.map((p) => p.standardError),
      best,
      c,
    )
  ]!.k;
}

function reasonLine(
  curve: readonly RankCurvePoint[],
  chosen: number,
  best: number,
  cap: number,
  n: number,
  standardErrors: number,
): string {
  const grid = `grid ${curve.map((p) => p.k).join(", ")} (capped at ${cap})`;
  if (n === 0) return `k = ${curve[chosen]!.k}: no validation pairs to choose by; ${grid}`;
  const c = curve[chosen]!;
  const b = curve[best]!;
  const ll = (x: number) => x.toFixed(4);
  if (chosen === best) {
    return `k = ${c.k}: the best mean validation log-likelihood (${ll(c.validationLogLikelihood)} per pair over ${n} pairs); ${grid}`;
  }
  return `k = ${c.k}: mean validation log-likelihood ${ll(c.validationLogLikelihood)} is within ${standardErrorsInWords(standardErrors)} (SE ${ll(c.standardError)}) of the best, k = ${b.k} (${ll(b.validationLogLikelihood)}), over ${n} pairs; the smallest such k of ${grid}`;
}

function mean(values: Float64Array): number {
  let s = 0;
  for (const v of values) s += v;
  return values.length === 0 ? 0 : s / values.length;
}

/** Standard error of the mean of a − b (paired); 0 for fewer than two pairs. */
function pairedStandardError(a: Float64Array, b: Float64Array): number {
  const n = a.length;
  if (n < 2) return 0;
  let s = 0;
  for (let j = 0; j < n; j++) s += a[j]! - b[j]!;
  const mu = s / n;
  let ss = 0;
  for (let j = 0; j < n; j++) ss += (a[j]! - b[j]! - mu) ** 2;
  return Math.sqrt(ss / (n - 1) / n);
}
