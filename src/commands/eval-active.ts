import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { DEFAULT_MODEL_DIR } from "../config.js";
import { readHead } from "../model/head-file.js";
import { loadModelDir } from "../model/manifest.js";
import { readCandidates, replayUsers } from "../training/active/candidate-pool.js";
import type { QueryStrategy } from "../training/active/query-selection.js";
import { type ReplayResult, replayOnboarding } from "../training/active/replay.js";
import { accuracyPlot, type PlotSeries } from "../training/eval/svg-plot.js";
import { FeatureExtractor } from "../training/features/extractor.js";
import { DEFAULT_FEATURE_CACHE } from "./features.js";
import { parsePositiveInteger } from "./options.js";
import { progressBar } from "./progress.js";

export interface EvalActiveOptions {
  model: string;
  /** Default: the model's own head. */
  head?: string;
  candidates: string;
  seeds: number;
  perRound: number;
  rounds: number;
  cache: string;
  json?: string;
  svg?: string;
}

export const STRATEGIES: readonly QueryStrategy[] = ["information", "uncertainty", "random"];

/** `sharelora eval-active`, callable without a subprocess. */
export async function runEvalActive(options: EvalActiveOptions): Promise<ReplayResult> {
  const model = await loadModelDir(options.model, { needsHead: options.head === undefined });
  const head = await readHead(options.head ?? model.headDir);
  const rows = await readCandidates(options.candidates);
  const extractor = await FeatureExtractor.open({
    modelDir: options.model,
    cacheDir: options.cache,
  });
  const bar = progressBar("features");
  const users = await replayUsers(rows, head, (texts) =>
    extractor.extract(texts, (p) => bar.update(p.done, p.total)),
  );
  bar.stop();
  await extractor.close();
  const result = replayOnboarding(users, {
    prior: head.prior,
    strategies: STRATEGIES,
    seeds: Array.from({ length: options.seeds }, (_, i) => i + 1),
    perRound: options.perRound,
    rounds: options.rounds,
  });
  if (options.json) await writeFile(options.json, `${JSON.stringify(result, null, 2)}\n`);
  if (options.svg) {
    const asked = result.questions.slice(1);
    const series: PlotSeries[] = result.curves.map((c) => ({
      label: c.strategy,
      values: c.accuracy.slice(1),
    }));
    series.push({
      label: "global (no question)",
      values: asked.map(() => result.curves[0]!.accuracy[0]!),
    });
    series.push({ label: "Bayes optimum", values: asked.map(() => result.bayes) });
    await writeFile(
      options.svg,
      accuracyPlot(
        "Active onboarding: test accuracy against questions asked",
        asked,
        series.map((s, i) => ({ ...s, dashed: i >= result.curves.length })),
      ),
    );
  }
  return result;
}

export function activeReport(result: ReplayResult): string {
  const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
  const lines = [
    `## Active onboarding (${result.users} new users × ${result.seeds} seeds; expected accuracy on each user's test pairs; Bayes optimum ${pct(result.bayes)})`,
    "",
    `| questions | ${result.curves.map((c) => c.strategy).join(" | ")} |`,
    `|---|${result.curves.map(() => "---|").join("")}`,
  ];
  result.questions.forEach((q, i) => {
    lines.push(`| ${q} | ${result.curves.map((c) => pct(c.accuracy[i]!)).join(" | ")} |`);
  });
  return `${lines.join("\n")}\n`;
}

export function registerEvalActive(program: Command): void {
  program
    .command("eval-active")
    .description(
      "Replay active onboarding on held-out synthetic users with known utilities: accuracy against questions asked, per strategy",
    )
    .option("--model <dir>", "Model directory", DEFAULT_MODEL_DIR)
    .option("--head <dir>", "Head directory (default: the model's own head)")
    .requiredOption("--candidates <file>", "candidates.jsonl written by `sharelora synth`")
    .option("--seeds <n>", "Seeds to average over", parsePositiveInteger("--seeds"), 10)
    .option("--per-round <n>", "Questions asked per round", parsePositiveInteger("--per-round"), 4)
    .option("--rounds <n>", "Rounds", parsePositiveInteger("--rounds"), 4)
    .option("--cache <dir>", "Feature cache directory", DEFAULT_FEATURE_CACHE)
    .option("--json <file>", "Write the curves as JSON")
    .option("--svg <file>", "Write the curves as an SVG plot")
    .action(async (o: EvalActiveOptions) => {
      process.stdout.write(activeReport(await runEvalActive(o)));
    });
}
