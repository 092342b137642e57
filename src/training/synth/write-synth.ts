import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { generateSynth } from "./generate-synth.js";
import type { SynthDataset, SynthOptions, SynthRow } from "./synth-types.js";

export interface SynthFiles {
  readonly train: string;
  readonly test: string;
  readonly newUsers: string;
  readonly bayes: string;
}

function jsonl(rows: readonly SynthRow[]): string {
  return rows.map((row) => JSON.stringify(row)).join("\n") + (rows.length > 0 ? "\n" : "");
}

/** Writes train.jsonl, test.jsonl, newusers.jsonl and bayes.json (accuracies + planted model). */
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
  };
  const summary = { options, bayes: dataset.bayes, planted: dataset.planted };
  await Promise.all([
    writeFile(files.train, jsonl(dataset.train)),
    writeFile(files.test, jsonl(dataset.test)),
    writeFile(files.newUsers, jsonl(dataset.newUsers)),
    writeFile(files.bayes, `${JSON.stringify(summary, null, 2)}\n`),
  ]);
  return { files, dataset };
}
