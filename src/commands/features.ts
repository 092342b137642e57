import type { Command } from "commander";
import { DEFAULT_MODEL_DIR } from "../config.js";
import { ItemTexts } from "../service/item-texts.js";
import { readComparisons } from "../training/data.js";
import { FeatureExtractor } from "../training/features/extractor.js";
import { progressBar } from "./progress.js";

export const DEFAULT_FEATURE_CACHE = ".cache/features";

/** Φ for every text of a dataset, cached on disk by model hash and text hash. */
export async function datasetFeatures(options: {
  model: string;
  files: string[];
  cacheDir: string;
  skipBad?: boolean;
  device?: string;
}) {
  const extractor = await FeatureExtractor.open({
    modelDir: options.model,
    cacheDir: options.cacheDir,
    device: options.device ?? "cpu",
  });
  const texts = new ItemTexts(extractor.renderer, extractor.model.manifest.encoding);
  const datasets = [];
  for (const file of options.files) {
    const rows = await readComparisons(file, {
      skipBad: options.skipBad ?? false,
      onSkip: (e) => process.stderr.write(`skipped ${e.message}\n`),
    });
    const { chosen, rejected } = texts.preferences(rows.map((r) => r.pair));
    datasets.push({ file, rows, chosen, rejected });
  }
  const bar = progressBar("features");
  const all = datasets.flatMap((d) => [...d.chosen, ...d.rejected]);
  const phi = await extractor.extract(all, (p) => bar.update(p.done, p.total));
  bar.stop();
  let offset = 0;
  const out = datasets.map((d) => {
    const n = d.rows.length;
    const chosen = phi.slice(offset, offset + n);
    const rejected = phi.slice(offset + n, offset + 2 * n);
    offset += 2 * n;
    return { file: d.file, rows: d.rows, chosen, rejected };
  });
  await extractor.close();
  return { d: extractor.d, m: extractor.m, model: extractor.model, datasets: out };
}

export function registerFeatures(program: Command): void {
  program
    .command("features")
    .description(
      "Compute Φ for every distinct text of a dataset through the serving engine, cached on disk",
    )
    .option("--model <dir>", "Model directory", DEFAULT_MODEL_DIR)
    .requiredOption("--data <file...>", "JSONL comparisons: {user, prompt, chosen, rejected}")
    .option("--cache <dir>", "Feature cache directory", DEFAULT_FEATURE_CACHE)
    .option("--skip-bad", "Skip malformed lines instead of stopping", false)
    .action(async (o) => {
      const started = performance.now();
      const result = await datasetFeatures({
        model: o.model,
        files: o.data,
        cacheDir: o.cache,
        skipBad: o.skipBad,
      });
      process.stdout.write(
        `${JSON.stringify({ model: result.model.manifest.id, d: result.d, m: result.m, rows: result.datasets.map((d) => ({ file: d.file, comparisons: d.rows.length })), seconds: (performance.now() - started) / 1000 })}\n`,
      );
    });
}
