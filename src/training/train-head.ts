/**
 * The offline pipeline behind `sharelora fit`: Φ of every pair (cached), the shared head by
 * P-ShareLoRA, the head file with its population prior, a training report, and the training
 * users' adapters as the server would have stored them.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { basename, isAbsolute, join, relative } from "node:path";
import { openAdapterStore } from "../adapters/open-store.js";
import { computeHeadHash, type Head, type HeadTensors, writeHead } from "../model/head-file.js";
import { type RankOption, type RankSelection, selectRank } from "./rank-selection.js";
import { servedPairStats } from "./served-pair-stats.js";
import {
  buildSharedData,
  concatPairs,
  DEFAULT_L2,
  type InitMode,
  type RoundRecord,
  type SharedModel,
  type ShareMode,
  trainShared,
} from "./shared/index.js";
import { trainedAdapterDraft } from "./trained-adapter.js";
import { type FeatureRows, groupByUser } from "./user-pairs.js";

export const REPORT_FILE = "report.json";
export type { RankOption } from "./rank-selection.js";
/**
 * k of `fit` and `eval`: chosen from the data. The shipped head (models/default/head) was built
 * with it; its report.json records the curve and the choice (a test checks they agree).
 */
export const DEFAULT_FIT_RANK: RankOption = "auto";
/**
 * Ridge strength of `fit` and `eval`: the default backbone's feature differences have entries of
 * about 0.1, so the library's DEFAULT_L2 (for unit-scale features) over-shrinks; 0.1 had the best
 * validation accuracy of 0.03–10 on the default synth data (docs/training.md).
 */
export const DEFAULT_CLI_L2 = 0.1;
/** Ridge on W of `fit` and `eval`: with l2 alone (0.1) W overfits 13 pairs and validation drops. */
export const DEFAULT_CLI_L2_USER = 10;

export interface TrainHeadOptions {
  /** Φ of the training comparisons and the model they come from. */
  features: { d: number; m: number; modelId: string; dataset: FeatureRows };
  /** Head directory: head.safetensors and report.json. */
  out: string;
  /** Adapter store (directory or redis:// URL) for the training users; null: none written. */
  adapters: string | null;
  /** Default DEFAULT_FIT_RANK ("auto"). */
  rank?: RankOption;
  init?: InitMode;
  share?: ShareMode;
  l2?: number;
  /** Ridge on each user's W (default l2); only √(l2·l2User) matters for B·W_i. */
  l2User?: number;
  seed?: number;
  /**
   * A head whose Θ0 and b0 stay as they are (`fit --keep-theta0`, e.g. an imported reward
   * model's score head): only B and the population prior are learned, so the written head's Θ0
   * and b0 are this head's, bit for bit.
   */
  keepHead?: Head;
  onProgress?: (record: RoundRecord) => void;
  /** Told before each k of `--rank auto` is fitted. */
  onRank?: (k: number, index: number, count: number) => void;
  /** Extra fields for report.json (data file, command line…). */
  describe?: Record<string, unknown>;
}

export interface TrainHeadResult {
  model: SharedModel;
  /** null for share A, which has no servable shared-B head. */
  head: Head | null;
  report: Record<string, unknown>;
  /** The curve and the choice of `--rank auto`; null when k was forced. */
  rankSelection: RankSelection | null;
  adaptersWritten: number;
  seconds: { train: number; adapters: number; total: number };
}

export async function trainHead(options: TrainHeadOptions): Promise<TrainHeadResult> {
  const started = performance.now();
  const { d, m, modelId, dataset } = options.features;
  const share = options.share ?? "B";
  const seed = options.seed ?? 0;
  const kept = options.keepHead;
  if (kept !== undefined && (kept.d !== d || kept.m !== m)) {
    throw new TypeError(
      `keepHead: expected a head of d = ${d}, m = ${m} (the model's), got d = ${kept.d}, m = ${kept.m}`,
    );
  }
  const users = groupByUser(dataset);
  const data = buildSharedData(users, d, m, { seed });
  const rank = options.rank ?? DEFAULT_FIT_RANK;
  const settings = {
    share,
    init: options.init ?? "global",
    l2: options.l2 ?? DEFAULT_L2,
    ...(options.l2User === undefined ? {} : { l2User: options.l2User }),
    seed,
    ...(kept === undefined ? {} : { fixedTheta0: Float64Array.from(kept.theta0) }),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  };
  let rankSelection: RankSelection | null = null;
  let model: SharedModel;
  if (rank === "auto") {
    const selected = selectRank(data, settings, options.onRank ? { onRank: options.onRank } : {});
    rankSelection = selected.selection;
    model = selected.model;
  } else {
    model = trainShared(data, { ...settings, rank });
  }
  const trained = performance.now();
  let head: Head | null = null;
  let adaptersWritten = 0;
  await mkdir(options.out, { recursive: true });
  if (model.share === "B") {
    head = toHead(model, modelId, kept);
    await writeHead(options.out, head);
    if (options.adapters !== null) {
      const store = await openAdapterStore(
        options.adapters,
        { k: head.k, m: head.m },
        { headHash: head.hash },
      );
      try {
        for (const [u, userPairs] of data.users.entries()) {
          const stats = servedPairStats(head, concatPairs([userPairs.train, userPairs.validation]));
          const draft = trainedAdapterDraft(head, stats, model.W[u]!, model.report.l2User);
          await store.update(userPairs.user, () => draft);
          adaptersWritten++;
        }
      } finally {
        await store.close();
      }
    }
  }
  const finished = performance.now();
  const seconds = {
    train: (trained - started) / 1000,
    adapters: (finished - trained) / 1000,
    total: (finished - started) / 1000,
  };
  const report = {
    ...portablePaths(options.describe ?? {}),
    model_id: modelId,
    share,
    init: options.init ?? "global",
    rank: model.k,
    rank_selection: rankSelection,
    l2: options.l2 ?? DEFAULT_L2,
    l2_user: model.report.l2User,
    seed,
    d,
    m,
    users: data.users.length,
    train_pairs: data.users.reduce((s, u) => s + u.train.count, 0),
    validation_pairs: data.users.reduce((s, u) => s + u.validation.count, 0),
    head_hash: head?.hash ?? null,
    kept_theta0: kept !== undefined,
    servable: head !== null,
    adapters: head === null || options.adapters === null ? null : portablePath(options.adapters),
    adapters_written: adaptersWritten,
    training: model.report,
    seconds,
  };
  await writeFile(join(options.out, REPORT_FILE), `${JSON.stringify(report, null, 2)}\n`);
  return { model, head, report, rankSelection, adaptersWritten, seconds };
}

function toHead(model: SharedModel & { share: "B" }, modelId: string, kept?: Head): Head {
  const tensors: HeadTensors = {
    d: model.d,
    m: model.m,
    k: model.k,
    theta0: kept === undefined ? Float32Array.from(model.theta0) : Float32Array.from(kept.theta0),
    b0: kept === undefined ? model.b0 : kept.b0,
    B: Float32Array.from(model.B),
    prior: { mean: Float64Array.from(model.prior.mean), cov: Float64Array.from(model.prior.cov) },
  };
  return { ...tensors, hash: computeHeadHash(tensors), modelId, basis: "trained" };
}

/**
 * A path as the report may show it on another machine: relative to the working directory when
 * inside it, else only its last part (a scratch folder of the machine that ran the fit).
 */
function portablePath(path: string): string {
  if (!isAbsolute(path)) return path;
  const inside = relative(process.cwd(), path);
  return inside.startsWith("..") || isAbsolute(inside) ? basename(path) : inside;
}

function portablePaths(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(fields).map(([key, value]) => [
      key,
      typeof value === "string" && isAbsolute(value) ? portablePath(value) : value,
    ]),
  );
}
