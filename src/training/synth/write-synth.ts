import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  DEFAULT_CANDIDATE_PROMPTS,
  DEFAULT_CANDIDATE_RESPONSES,
  generateCandidates,
} from "./candidates.js";
import { generateSynth } from "./generate-synth.js";
import type { SynthDataset, SynthOptions } from "./synth-types.js";

export interface SynthFiles {
  readonly train: string;
  readonly test: string;
  readonly newUsers: string;
  readonly bayes: string;
  /** New users' candidate prompts with each response's true utility (for `eval-active`). */
  readonly candidates: string;
}

function jsonl(rows: readonly object[]): string {
  return rows.map((row) => JSON.stringify(row)).join("\n") + (rows.length > 0 ? "\n" : "");
}

/**
 * Writes train.jsonl, test.jsonl, newusers.jsonl, bayes.json (accuracies + planted model) and
 * candidates.jsonl (new users' candidate responses with their true utilities).
 */
export async function writeSynth(
  dir: string,
  options: SynthOptions,
): Promise<{ files: SynthFiles; dataset: SynthDataset }> {
  const dataset = generateSynth(options);
  await mkdir(dir, { recursive: true });
  const files: SynthFiles = {
    train: join(dir, "train.jsonl"),
    test: join(dir, "test.jsonl"),
    newUsers: join(dir, "newusers.jsonl"),
    bayes: join(dir, "bayes.json"),
    candidates: join(dir, "candidates.jsonl"),
  };
  const candidates = generateCandidates(dataset.planted, {
    prompts: options.candidatePrompts ?? DEFAULT_CANDIDATE_PROMPTS,
    responses: options.candidateResponses ?? DEFAULT_CANDIDATE_RESPONSES,
    seed: options.seed,
  });
  const summary = { options, bayes: dataset.bayes, planted: dataset.planted };
  await Promise.all([
    writeFile(files.train, jsonl(dataset.train)),
    writeFile(files.test, jsonl(dataset.test)),
    writeFile(files.newUsers, jsonl(dataset.newUsers)),
    writeFile(files.bayes, `${JSON.stringify(summary, null, 2)}\n`),
    writeFile(files.candidates, jsonl(candidates)),
  ]);
  return { files, dataset };
}
