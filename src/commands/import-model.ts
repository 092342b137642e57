import { createReadStream } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Command } from "commander";
import type { RewardItem } from "../inference/render.js";
import { writeHead } from "../model/head-file.js";
import {
  DEFAULT_IMPORT_RANK,
  HEAD_DIR,
  type ImportedModel,
  type ImportModelOptions,
  type ImportPooling,
  importModel,
  withBasis,
} from "../model/import-model.js";
import { scoredItem } from "../schemas/common.js";
import { ItemTexts, type TextItem } from "../service/item-texts.js";
import { calibrationBasis } from "../training/calibration-basis.js";
import { FeatureExtractor } from "../training/features/extractor.js";
import { parsePositiveInteger } from "./options.js";

const POOLINGS: readonly ImportPooling[] = ["last", "mean", "cls"];
/** Calibration lines are texts a user might score; no request limit applies to a local file. */
const CALIBRATION_LIMITS = { maxItems: 10_000, maxTextChars: 10_000_000 };

export class CalibrationError extends Error {
  readonly code = "CALIBRATION_INVALID";
  override readonly name = "CalibrationError";
}

export interface ImportModelCommandOptions extends ImportModelOptions {
  /** JSONL of items ({prompt, response} / {messages} / {text}) whose Φ gives B by PCA. */
  calibration?: string | undefined;
  device?: string | undefined;
  seed?: number | undefined;
}

export interface ImportModelCommandResult extends ImportedModel {
  calibrationTexts: number;
}

/** Items of a calibration JSONL file, each checked as the API checks a scored item. */
export async function readCalibrationItems(file: string): Promise<(RewardItem | TextItem)[]> {
  const schema = scoredItem(CALIBRATION_LIMITS);
  const items: (RewardItem | TextItem)[] = [];
  const lines = createInterface({ input: createReadStream(file, "utf8"), crlfDelay: Infinity });
  let line = 0;
  for await (const text of lines) {
    line += 1;
    if (text.trim().length === 0) continue;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new CalibrationError(`${file}:${line}: not valid JSON: ${(error as Error).message}`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new CalibrationError(
        `${file}:${line}: ${issue.path.join(".") || "(line)"}: ${issue.message} (expected {prompt, response}, {messages} or {text})`,
      );
    }
    const { user: _user, ...item } = parsed.data as (RewardItem | TextItem) & { user?: string };
    items.push(item);
  }
  return items;
}

/** `sharelora import-model`, callable without a subprocess. */
export async function runImportModel(
  options: ImportModelCommandOptions,
): Promise<ImportModelCommandResult> {
  const imported = await importModel(options);
  if (options.calibration === undefined) {
    imported.notes.push(
      `no --calibration: B = 0 (head basis "none"), so onboarding a user (POST /v1/users/{user}/fit) is refused until \`sharelora fit --model ${options.out} --keep-theta0\` learns B; W = 0 rewards are served now`,
    );
    return { ...imported, calibrationTexts: 0 };
  }
  const items = await readCalibrationItems(options.calibration);
  const extractor = await FeatureExtractor.open({
    modelDir: imported.dir,
    device: options.device ?? "cpu",
  });
  let features: Float32Array[];
  try {
    const texts = new ItemTexts(extractor.renderer, extractor.model.manifest.encoding);
    features = await extractor.extract(
      items.map((item, i) => texts.render(item, `${options.calibration}[${i}]`)),
    );
  } finally {
    await extractor.close();
  }
  const distinct = [
    ...new Map(features.map((f) => [Buffer.from(f.buffer).toString("base64"), f])).values(),
  ];
  const B = calibrationBasis(distinct, imported.d, imported.head.k, options.seed ?? 0);
  const head = withBasis(imported.head, B, "calibration-pca");
  await writeHead(join(imported.dir, HEAD_DIR), head);
  return { ...imported, head, calibrationTexts: distinct.length };
}

function parsePooling(value: string): ImportPooling {
  if (!(POOLINGS as readonly string[]).includes(value)) {
    throw new TypeError(`--pooling: expected one of ${POOLINGS.join(", ")}, got ${value}`);
  }
  return value as ImportPooling;
}

export function registerImportModel(program: Command): void {
  program
    .command("import-model")
    .description(
      "Make a model directory from an ONNX export of a reward model, its tokenizer and its own score head (Θ0, b0)",
    )
    .requiredOption(
      "--onnx <file>",
      "ONNX graph file (model.onnx; its .onnx_data is found and copied)",
    )
    .requiredOption(
      "--tokenizer <dir>",
      "Tokenizer directory (tokenizer.json, tokenizer_config.json)",
    )
    .requiredOption("--out <dir>", "Model directory to write")
    .option(
      "--score-head <file>",
      "safetensors file, shard or model.safetensors.index.json holding the score head",
    )
    .option("--score-tensor <name>", "Name of the score head's weight [1, d]", "score.weight")
    .option("--pooling <mode>", "last | mean | cls", parsePooling, "last")
    .option("--output <name>", "Graph output holding the hidden states", "last_hidden_state")
    .option("--id <id>", "Model id (default: the --out directory's name)")
    .option("--max-length <n>", "Most tokens per text", parsePositiveInteger("--max-length"))
    .option("--calibration <file>", "JSONL of items whose features' principal directions give B")
    .option("--rank <k>", "Columns of B", parsePositiveInteger("--rank"), DEFAULT_IMPORT_RANK)
    .action(async (o: ImportModelCommandOptions) => {
      const result = await runImportModel(o);
      for (const note of result.notes) process.stderr.write(`note: ${note}\n`);
      process.stdout.write(
        `${JSON.stringify({ out: result.dir, id: result.manifest["id"], d: result.d, encoding: result.manifest["encoding"] ?? "pair", pooling: result.manifest["pooling"], head_hash: result.head.hash, basis: result.head.basis, score_head: result.scoreHead?.file ?? null, calibration_texts: result.calibrationTexts })}\n`,
      );
    });
}
