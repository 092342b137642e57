import { access, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Command } from "commander";
import { ConfigError, DEFAULT_MODEL_DIR } from "../config.js";
import {
  ATTRIBUTE_SHAPE,
  accuracyPlot,
  attributeRows,
  type EvaluationResult,
  evaluate,
  type FeatureSet,
  markdownReport,
  readBayesBeside,
} from "../training/eval/index.js";
import { readPlantedBeside, trueLogOdds } from "../training/eval/planted-truth.js";
import { rankSelectionMarkdown } from "../training/eval/rank-selection-report.js";
import {
  DEFAULT_STUDY_SEEDS,
  runStudies,
  STUDY_NAMES,
  type StudyName,
} from "../training/eval/studies/study-runner.js";
import type { RankOption } from "../training/rank-selection.js";
import { datasetFeatures } from "./features.js";
import { addLearnerOptions, parsePositiveInteger } from "./options.js";

export interface EvalCommandOptions {
  model: string;
  data: string;
  test: string;
  /** Default: newusers.jsonl beside the test file, when present. */
  newUsers?: string;
  json?: string;
  svg?: string;
  quick: boolean;
  rank: RankOption;
  l2: number;
  l2User: number;
  seed: number;
  cache: string;
  skipBad: boolean;
  log?: (message: string) => void;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** `sharelora eval`, callable without a subprocess. */
export async function runEval(options: EvalCommandOptions): Promise<EvaluationResult> {
  const besideTest = join(dirname(options.test), "newusers.jsonl");
  const newUsersFile = options.newUsers ?? ((await exists(besideTest)) ? besideTest : undefined);
  const files = [options.data, options.test, ...(newUsersFile ? [newUsersFile] : [])];
  const features = await datasetFeatures({
    model: options.model,
    files,
    cacheDir: options.cache,
    skipBad: options.skipBad,
  });
  const [train, test, newUsers] = features.datasets;
  const set: FeatureSet = {
    d: features.d,
    m: features.m,
    train: train!,
    test: test!,
    newUsers: newUsers ?? null,
  };
  const bayes = await readBayesBeside(options.test);
  const attributeTrain = bayes === null ? null : attributeRows(train!.rows);
  const attributeTest = bayes === null ? null : attributeRows(test!.rows);
  const attributeNew = newUsers === undefined ? null : attributeRows(newUsers.rows);
  const attributes: FeatureSet | null =
    attributeTrain !== null && attributeTest !== null
      ? { ...ATTRIBUTE_SHAPE, train: attributeTrain, test: attributeTest, newUsers: attributeNew }
      : null;
  const planted = newUsers === undefined ? null : await readPlantedBeside(options.test);
  const newUserTruth = planted === null ? null : trueLogOdds(planted, newUsers!.rows);
  const result = evaluate({
    features: set,
    attributes,
    bayes,
    newUserTruth,
    quick: options.quick,
    rank: options.rank,
    l2: options.l2,
    l2User: options.l2User,
    seed: options.seed,
    ...(options.log ? { log: options.log } : {}),
  });
  if (options.json) await writeFile(options.json, `${JSON.stringify(result, null, 2)}\n`);
  if (options.svg && result.newUsers !== null) {
    const curve = result.newUsers;
    const series = curve.methods.map((m) => ({
      label: m.method.split(" (")[0]!,
      values: m.accuracy,
    }));
    const p = result.seen.find((s) => s.method.startsWith("P-ShareLoRA"));
    if (p) series.push({ label: "P-ShareLoRA, seen users", values: curve.ns.map(() => p.mean) });
    const plot = series.map((s, i) => ({ ...s, dashed: i >= curve.methods.length }));
    if (bayes?.newUsers != null) {
      plot.push({
        label: "Bayes optimum",
        values: curve.ns.map(() => bayes.newUsers),
        dashed: true,
      });
    }
    await writeFile(
      options.svg,
      accuracyPlot("New users: held-out accuracy after n pairs", curve.ns, plot),
    );
  }
  return result;
}

interface StudyFlags {
  study?: StudyName | "all";
  seeds: number;
  studyOut: string;
}

function parseStudy(value: string): StudyName | "all" {
  if (value === "all" || (STUDY_NAMES as string[]).includes(value)) return value as StudyName;
  throw new ConfigError(`--study: expected one of ${STUDY_NAMES.join(", ")}, all; got ${value}`);
}

export function registerEval(program: Command): void {
  addLearnerOptions(
    program
      .command("eval")
      .description(
        "Held-out accuracy of global, local, P-ShareLoRA and its ablations; new-user curve; rank sweep",
      )
      .option("--model <dir>", "Model directory", DEFAULT_MODEL_DIR)
      .option("--data <file>", "Training comparisons (JSONL); required without --study")
      .option(
        "--test <file>",
        "Held-out comparisons of the same users (JSONL); required without --study",
      )
      .option(
        "--new-users <file>",
        "Comparisons of users absent from training (default: newusers.jsonl beside --test)",
      )
      .option("--json <file>", "Write every figure as JSON")
      .option("--svg <file>", "Write the new-user curve as an SVG plot")
      .option(
        "--quick",
        "Fewer ranks and draws; with --study, the quick version of each study",
        false,
      )
      .option(
        "--study <name>",
        `Run a study on planted feature-space data instead (no --data, no backbone): ${STUDY_NAMES.join(" | ")} | all`,
        parseStudy,
      )
      .option(
        "--seeds <n>",
        "Seeds of each study (figures: mean ± 95% interval over them)",
        parsePositiveInteger("--seeds"),
        DEFAULT_STUDY_SEEDS,
      )
      .option("--study-out <dir>", "Folder for each study's .md, .svg and .json", "eval-studies"),
  ).action(async (o: EvalCommandOptions & StudyFlags) => {
    if (o.study !== undefined) {
      const log = (m: string) => process.stderr.write(`eval: ${m}\n`);
      const outputs = await runStudies({
        study: o.study,
        quick: o.quick,
        seeds: o.seeds,
        out: o.studyOut,
        log,
      });
      for (const output of outputs) process.stdout.write(`${output.markdown}\n`);
      return;
    }
    if (o.data === undefined || o.test === undefined) {
      throw new ConfigError("eval: --data and --test are required (or --study to run a study)");
    }
    const result = await runEval({ ...o, log: (m) => process.stderr.write(`eval: ${m}\n`) });
    process.stdout.write(`${markdownReport(result)}\n`);
    if (result.rankSelection !== null) {
      process.stdout.write(`${rankSelectionMarkdown(result.rankSelection)}\n`);
    }
  });
}
