import { ATTRIBUTE_COUNT } from "./attributes.js";
import type { SynthOptions } from "./synth-types.js";

type IntegerOption = Exclude<
  keyof SynthOptions,
  "disagreement" | "candidatePrompts" | "candidateResponses"
>;

function integerAtLeast(options: SynthOptions, key: IntegerOption, min: number): void {
  const value = options[key];
  if (!Number.isSafeInteger(value) || value < min) {
    throw new TypeError(`expected options.${key} to be an integer ≥ ${min}, got ${String(value)}`);
  }
}

export function validateSynthOptions(options: SynthOptions): void {
  integerAtLeast(options, "users", 1);
  integerAtLeast(options, "pairsPerUser", 1);
  integerAtLeast(options, "testPairsPerUser", 0);
  integerAtLeast(options, "newUsers", 0);
  integerAtLeast(options, "newUserPairs", options.newUsers > 0 ? 1 : 0);
  integerAtLeast(options, "rank", 1);
  integerAtLeast(options, "seed", 0);
  const { disagreement } = options;
  if (disagreement !== undefined && !(Number.isFinite(disagreement) && disagreement > 0)) {
    throw new TypeError(
      `expected options.disagreement to be a positive number, got ${String(disagreement)}`,
    );
  }
  if (options.rank > ATTRIBUTE_COUNT) {
    throw new TypeError(
      `expected options.rank ≤ ${ATTRIBUTE_COUNT} attributes, got ${options.rank}`,
    );
  }
}

/** Sizes suited to onboarding curves: 64+ pairs for each new user. */
export const DEFAULT_SYNTH_OPTIONS: SynthOptions = {
  users: 64,
  pairsPerUser: 64,
  testPairsPerUser: 16,
  newUsers: 16,
  newUserPairs: 96,
  rank: 2,
  seed: 1,
  disagreement: 1,
};
