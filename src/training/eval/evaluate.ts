/**
 * `sharelora eval`: held-out accuracy of the global head, per-user local heads, P-ShareLoRA and
 * its ablations on the users seen in training; the onboarding curve of unseen users; a rank sweep;
 * and, on synthetic data, the same learners on the true attributes (the backbone's ceiling).
 */
import { type RankOption, type RankSelection, selectRank } from "../rank-selection.js";
import { buildSharedData, type PairBlock, type SharedData } from "../shared/index.js";
import { type FeatureRows, groupByUser } from "../user-pairs.js";
import type { BayesReference } from "./bayes-reference.js";
import { type CurveResult, DEFAULT_CURVE_NS, newUserCurve } from "./new-user-curve.js";
import {
  type MethodScore,
  modelTheta,
  type SeenSettings,
  scoreGlobal,
  scoreLocal,
  scoreMethod,
  trainVariant,
} from "./seen-users.js";
import { userBlocks } from "./user-blocks.js";

export const FULL_RANKS = [1, 2, 4, 8, 16, 32] as const;
export const QUICK_RANKS = [1, 2, 4, 8] as const;

export interface FeatureSet {
  d: number;
  m: number;
  train: FeatureRows;
  test: FeatureRows;
  newUsers: FeatureRows | null;
}

export interface EvaluationOptions extends Omit<SeenSettings, "rank"> {
  /** "auto": chosen on the training users' validation pairs, as `fit --rank auto` does. */
  rank: RankOption;
  features: FeatureSet;
  /** The true attributes as features (synth data only). */
  attributes: FeatureSet | null;
  bayes: BayesReference | null;
  /** New users' true log-odds per pair (synthetic data), for the coverage of the pessimistic bound. */
  newUserTruth?: ReadonlyMap<string, Float64Array> | null;
  quick: boolean;
  log?: (message: string) => void;
}

export interface RankPoint {
  k: number;
  mean: number;
  seconds: number;
  /** The personal ridge of the kept fit, and every one tried (see trainShared). */
  l2User: number;
  l2UserTried: number[];
}

export interface EvaluationResult {
  settings: SeenSettings & { quick: boolean; d: number; m: number };
  users: { train: number; test: number; newUsers: number };
  seen: MethodScore[];
  newUsers: CurveResult | null;
  rankSweep: RankPoint[];
  /** The curve and the choice of `--rank auto`; null when k was forced. */
  rankSelection: RankSelection | null;
  attributes: { seen: MethodScore[]; newUsers: CurveResult | null; rank: number } | null;
  bayes: BayesReference | null;
}

export function evaluate(options: EvaluationOptions): EvaluationResult {
  const log = options.log ?? (() => {});
  const { features } = options;
  const prepared = prepare(features, options.seed);
  let rankSelection: RankSelection | null = null;
  if (options.rank === "auto") {
    log("rank auto: one fit per k of the grid");
    rankSelection = selectRank(prepared.data, {
      l2: options.l2,
      l2User: options.l2User,
      seed: options.seed,
    }).selection;
    log(`rank auto: ${rankSelection.reason}`);
  }
  const settings: SeenSettings = {
    rank: options.rank === "auto" ? rankSelection!.chosen : options.rank,
    l2: options.l2,
    l2User: options.l2User,
    seed: options.seed,
  };
  log("seen users: global, local");
  const seen = [
    scoreGlobal(prepared.data, prepared.test, settings),
    scoreLocal(prepared.data, prepared.test, settings),
  ];
  const variants = [
    ["P-ShareLoRA (share B, init G)", "B", "global"],
    ["share B, init WU", "B", "warmup"],
    ["share B, init random", "B", "random"],
    ["share A, init G", "A", "global"],
  ] as const;
  let shareB = null;
  for (const [method, share, init] of variants) {
    log(`seen users: ${method}`);
    const { model, seconds } = trainVariant(prepared.data, settings, share, init);
    if (shareB === null && model.share === "B") shareB = model;
    seen.push(scoreMethod(method, prepared.data, prepared.test, modelTheta(model), seconds));
  }
  if (shareB === null) throw new Error("unreachable: the share-B variant runs first");

  const draws = options.quick ? 2 : 5;
  let curve: CurveResult | null = null;
  if (prepared.newUsers !== null) {
    log(`new users: ${prepared.newUsers.size} users × ${draws} draws`);
    curve = newUserCurve(prepared.newUsers, shareB, {
      ns: DEFAULT_CURVE_NS,
      draws,
      seed: settings.seed,
      l2: settings.l2,
      ...(options.newUserTruth ? { truth: options.newUserTruth } : {}),
    });
  }

  const rankSweep: RankPoint[] = [];
  for (const k of options.quick ? QUICK_RANKS : FULL_RANKS) {
    if (k > features.d) continue;
    log(`rank sweep: k = ${k}`);
    const { model, seconds } =
      k === settings.rank
        ? { model: shareB, seconds: seen[2]!.seconds }
        : trainVariant(prepared.data, settings, "B", "global", k);
    const score = scoreMethod(`k=${k}`, prepared.data, prepared.test, modelTheta(model), seconds);
    const { l2User, l2UserTried } = model.report;
    rankSweep.push({ k, mean: score.mean, seconds, l2User, l2UserTried });
  }

  let attributes: EvaluationResult["attributes"] = null;
  if (options.attributes !== null) {
    log("true attributes: global, local, P-ShareLoRA");
    const a = prepare(options.attributes, settings.seed);
    const rank = Math.min(options.bayes?.plantedRank ?? settings.rank, options.attributes.d);
    const attributeSettings = { ...settings, rank };
    const { model, seconds } = trainVariant(a.data, attributeSettings, "B", "global");
    const attributeSeen = [
      scoreGlobal(a.data, a.test, attributeSettings),
      scoreLocal(a.data, a.test, attributeSettings),
      scoreMethod(`P-ShareLoRA (k=${rank})`, a.data, a.test, modelTheta(model), seconds),
    ];
    const attributeCurve =
      a.newUsers === null || model.share !== "B"
        ? null
        : newUserCurve(a.newUsers, model, {
            ns: DEFAULT_CURVE_NS,
            draws,
            seed: settings.seed,
            l2: settings.l2,
            // The same users and pairs, so the same true log-odds: here the model is well specified.
            ...(options.newUserTruth ? { truth: options.newUserTruth } : {}),
          });
    attributes = { seen: attributeSeen, newUsers: attributeCurve, rank };
  }

  return {
    settings: { ...settings, quick: options.quick, d: features.d, m: features.m },
    users: {
      train: prepared.data.users.length,
      test: prepared.test.size,
      newUsers: prepared.newUsers?.size ?? 0,
    },
    seen,
    newUsers: curve,
    rankSweep,
    rankSelection,
    attributes,
    bayes: options.bayes,
  };
}

function prepare(
  set: FeatureSet,
  seed: number,
): {
  data: SharedData;
  test: Map<string, PairBlock>;
  newUsers: Map<string, PairBlock> | null;
} {
  const data = buildSharedData(groupByUser(set.train), set.d, set.m, { seed });
  const test = userBlocks(groupByUser(set.test), set.d, set.m);
  const newUsers =
    set.newUsers === null ? null : userBlocks(groupByUser(set.newUsers), set.d, set.m);
  return { data, test, newUsers };
}
