import { join } from "node:path";
import type { Command } from "commander";
import { DEFAULT_MODEL_DIR } from "../config.js";
import { readHead } from "../model/head-file.js";
import type { RankSelection } from "../training/rank-selection.js";
import type { InitMode, ShareMode } from "../training/shared/index.js";
import { type RankOption, type TrainHeadResult, trainHead } from "../training/train-head.js";
import { datasetFeatures } from "./features.js";
import { addLearnerOptions, parseInit, parseShare } from "./options.js";
import { progressBar } from "./progress.js";

/**
 * Where the training users' adapters go without --adapters: a folder of the head's own output,
 * never the server's store (`adapters/` by default), whose users may belong to another head.
 */
export function defaultAdaptersDir(out: string): string {
  return join(out, "adapters");
}
const MAX_ROUNDS_SHOWN = 20;

export interface FitCommandOptions {
  model: string;
  data: string;
  out: string;
  /** Adapter store for the training users (default `<out>/adapters`, defaultAdaptersDir). */
  adapters?: string | undefined;
  /** A forced k, or "auto" (the default): chosen by the users' validation pairs. */
  rank: RankOption;
  init: InitMode;
  share: ShareMode;
  l2: number;
  /** Ridge on W (default: l2). */
  l2User?: number;
  seed: number;
  cache: string;
  skipBad: boolean;
  /** Keep the model directory's head's Θ0 and b0 (an imported reward model's own); learn B. */
  keepTheta0?: boolean;
  /** Draw progress bars on stderr (default true). */
  progress?: boolean;
}

/** `sharelora fit`, callable without a subprocess. */
export async function runFit(options: FitCommandOptions): Promise<TrainHeadResult> {
  const started = performance.now();
  const features = await datasetFeatures({
    model: options.model,
    files: [options.data],
    cacheDir: options.cache,
    skipBad: options.skipBad,
  });
  const featureSeconds = (performance.now() - started) / 1000;
  const keepHead = options.keepTheta0 ? await readHead(features.model.headDir) : undefined;
  const bar = options.progress === false ? null : progressBar("train rounds");
  // Under --rank auto the bar runs over every k of the grid, MAX_ROUNDS_SHOWN rounds each.
  let fitted = { index: 0, count: 1 };
  try {
    const result = await trainHead({
      features: {
        d: features.d,
        m: features.m,
        modelId: features.model.manifest.id,
        dataset: features.datasets[0]!,
      },
      out: options.out,
      adapters:
        options.share === "B" ? (options.adapters ?? defaultAdaptersDir(options.out)) : null,
      rank: options.rank,
      init: options.init,
      share: options.share,
      l2: options.l2,
      ...(options.l2User === undefined ? {} : { l2User: options.l2User }),
      seed: options.seed,
      ...(keepHead === undefined ? {} : { keepHead }),
      onProgress: (record) =>
        bar?.update(
          fitted.index * MAX_ROUNDS_SHOWN + record.round,
          fitted.count * MAX_ROUNDS_SHOWN,
        ),
      onRank: (_k, index, count) => {
        fitted = { index, count };
      },
      describe: { data: options.data, model_dir: options.model, feature_seconds: featureSeconds },
    });
    return result;
  } finally {
    bar?.stop();
  }
}

export function registerFit(program: Command): void {
  addLearnerOptions(
    program
      .command("fit")
      .description(
        "Train the shared head (Θ0, B, population prior of W) by P-ShareLoRA and store the training users' adapters",
      )
      .option("--model <dir>", "Model directory", DEFAULT_MODEL_DIR)
      .requiredOption("--data <file>", "JSONL comparisons: {user, prompt, chosen, rejected}")
      .requiredOption("--out <dir>", "Head directory to write (head.safetensors, report.json)")
      .option(
        "--adapters <dir|url>",
        "Adapter store for the training users (default: OUT/adapters; name the server's store, e.g. adapters or redis://…, to write into it)",
      )
      .option("--init <mode>", "global | warmup | random", parseInit, "global")
      .option(
        "--share <factor>",
        "B (P-ShareLoRA) or A (ablation: report only, nothing servable is written)",
        parseShare,
        "B",
      )
      .option(
        "--keep-theta0",
        "Keep Θ0 and b0 of the model directory's head (an imported reward model's score head) and learn only B and the prior",
        false,
      ),
  ).action(async (o: FitCommandOptions) => {
    const result = await runFit(o);
    const r = result.report;
    if (result.rankSelection !== null) {
      process.stderr.write(`${rankSelectionLines(result.rankSelection).join("\n")}\n`);
    }
    if (result.head === null) {
      process.stderr.write(
        "--share A trains B_i per user and a shared A: no shared-B head exists to serve, so only report.json was written\n",
      );
    }
    process.stdout.write(
      `${JSON.stringify({ out: o.out, head_hash: r["head_hash"], adapters: r["adapters"], adapters_written: result.adaptersWritten, users: r["users"], validation_accuracy: result.model.report.validationAccuracy, rounds: result.model.report.rounds, seconds: result.seconds })}\n`,
    );
  });
}

/** What `fit --rank auto` says on stderr: the choice and why, then the whole curve. */
export function rankSelectionLines(selection: RankSelection): string[] {
  const lines = [
    `rank auto: ${selection.reason}`,
    `rank auto: rule: ${selection.rule}; cap: ${selection.cap.rule}`,
  ];
  for (const p of selection.curve) {
    lines.push(
      `rank auto:   k = ${p.k}: validation log-likelihood ${p.validationLogLikelihood.toFixed(4)} ± ${p.standardError.toFixed(4)} (SE vs best), accuracy ${(100 * p.validationAccuracy).toFixed(1)}%${p.k === selection.chosen ? "  ← chosen" : ""}`,
    );
  }
  return lines;
}
