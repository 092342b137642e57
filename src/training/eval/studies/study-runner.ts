/** `sharelora eval --study …`: runs the studies and writes each one's markdown, SVG and JSON. */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ablationStudy } from "./ablations.js";
import { diversityStudy } from "./diversity.js";
import { rankStudy } from "./rank.js";
import { scaleStudy } from "./scale.js";
import type { StudyContext, StudyOutput } from "./study-types.js";

export const STUDIES = {
  rank: rankStudy,
  diversity: diversityStudy,
  scale: scaleStudy,
  ablations: ablationStudy,
} as const;
export type StudyName = keyof typeof STUDIES;
export const STUDY_NAMES = Object.keys(STUDIES) as StudyName[];
export const DEFAULT_STUDY_SEEDS = 5;

export interface StudyRunOptions {
  /** A study, or "all". */
  study: StudyName | "all";
  quick: boolean;
  /** Seeds 0 … seeds − 1 (at least 2 for an interval). */
  seeds: number;
  /** Folder for <study>.md, <study>.svg and <study>.json; null: write nothing. */
  out: string | null;
  log?: (message: string) => void;
}

export async function runStudies(options: StudyRunOptions): Promise<StudyOutput[]> {
  if (!Number.isInteger(options.seeds) || options.seeds < 2) {
    throw new TypeError(
      `seeds: expected an integer ≥ 2 (an interval needs two), got ${options.seeds}`,
    );
  }
  const names = options.study === "all" ? STUDY_NAMES : [options.study];
  const context: StudyContext = {
    quick: options.quick,
    seeds: Array.from({ length: options.seeds }, (_, i) => i),
    log: options.log ?? (() => {}),
  };
  const outputs: StudyOutput[] = [];
  for (const name of names) {
    const output = STUDIES[name](context);
    const note = `\n${options.quick ? "Quick" : "Full"} run: ${output.seconds.toFixed(0)} s on this machine.\n`;
    output.markdown += note;
    outputs.push(output);
    if (options.out !== null) {
      await mkdir(options.out, { recursive: true });
      await writeFile(join(options.out, `${name}.md`), output.markdown);
      await writeFile(join(options.out, `${name}.svg`), output.svg);
      await writeFile(
        join(options.out, `${name}.json`),
        `${JSON.stringify(output.json, null, 2)}\n`,
      );
    }
  }
  return outputs;
}
