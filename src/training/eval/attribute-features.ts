import type { Comparison } from "../data.js";
import { ATTRIBUTE_COUNT, attributes } from "../synth/index.js";
import type { FeatureRows } from "../user-pairs.js";

/**
 * The synthetic data's true attributes a(response) as features (d = ATTRIBUTE_COUNT, m = 1): the
 * planted model is linear in them, so a learner on these features shows what a perfect backbone
 * would allow. null when a row is conversational (not synth data).
 */
export function attributeRows(rows: readonly Comparison[]): FeatureRows | null {
  const chosen: Float32Array[] = [];
  const rejected: Float32Array[] = [];
  for (const { pair } of rows) {
    if (typeof pair.chosen !== "string" || typeof pair.rejected !== "string") return null;
    chosen.push(Float32Array.from(attributes(pair.chosen)));
    rejected.push(Float32Array.from(attributes(pair.rejected)));
  }
  return { rows, chosen, rejected };
}

export const ATTRIBUTE_SHAPE = { d: ATTRIBUTE_COUNT, m: 1 } as const;
