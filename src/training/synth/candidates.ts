import { Sfc32Random } from "../../math/random.js";
import { attributes } from "./attributes.js";
import { composeResponse, drawStyle } from "./compose-response.js";
import type { SynthPlanted } from "./synth-types.js";
import { PROMPTS } from "./vocabulary.js";

/**
 * One prompt with responses for one new user, and each response's true utility for that user,
 * u = s·v_user·a(response), so that P(a ≻ b) = σ(u_a − u_b) is the user's true Bradley-Terry
 * model. `pool` rows are what an onboarding may ask about; `test` rows score it.
 */
export interface CandidateRow {
  readonly user: string;
  readonly split: "pool" | "test";
  readonly prompt: string;
  readonly responses: string[];
  readonly utilities: number[];
}

export interface CandidateOptions {
  /** Prompts per new user in each split. */
  readonly prompts: number;
  /** Responses per prompt (≥ 2). */
  readonly responses: number;
  readonly seed: number;
}

export const DEFAULT_CANDIDATE_PROMPTS = 24;
export const DEFAULT_CANDIDATE_RESPONSES = 4;
// A stream of its own, so adding candidates changes nothing else `synth` writes.
const CANDIDATE_STREAM = 6;

export function generateCandidates(
  planted: SynthPlanted,
  options: CandidateOptions,
): CandidateRow[] {
  const { prompts, responses, seed } = options;
  if (!Number.isSafeInteger(prompts) || prompts < 0) {
    throw new TypeError(`expected prompts to be a non-negative integer, got ${String(prompts)}`);
  }
  if (!Number.isSafeInteger(responses) || responses < 2) {
    throw new TypeError(`expected responses to be an integer ≥ 2, got ${String(responses)}`);
  }
  const rng = new Sfc32Random(seed, CANDIDATE_STREAM);
  const rows: CandidateRow[] = [];
  for (const user of planted.users) {
    if (user.split !== "new") continue;
    for (const split of ["pool", "test"] as const) {
      for (let i = 0; i < prompts; i++) {
        const { prompt, topic } = rng.pick(PROMPTS);
        const texts: string[] = [];
        while (texts.length < responses) {
          const text = composeResponse(rng, topic, drawStyle(rng));
          if (!texts.includes(text)) texts.push(text);
        }
        const utilities = texts.map((text) => {
          const a = attributes(text);
          let sum = 0;
          for (let j = 0; j < a.length; j++) sum += user.v[j]! * a[j]!;
          return planted.scale * sum;
        });
        rows.push({ user: user.user, split, prompt, responses: texts, utilities });
      }
    }
  }
  return rows;
}
