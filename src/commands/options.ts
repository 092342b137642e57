import type { Command } from "commander";
import { ConfigError } from "../config.js";
import { INIT_MODES, type InitMode, type ShareMode } from "../training/shared/index.js";
import {
  DEFAULT_CLI_L2,
  DEFAULT_CLI_L2_USER,
  DEFAULT_FIT_RANK,
  type RankOption,
} from "../training/train-head.js";
import { DEFAULT_FEATURE_CACHE } from "./features.js";

export function parseNonNegativeInteger(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new TypeError(`expected a non-negative integer, got ${value}`);
  }
  return n;
}

/** For options whose bad value is caught before any work: a ConfigError exits 2 at once. */
export function parsePositiveInteger(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < 1) {
      throw new ConfigError(`${flag}: expected a positive integer, got ${value}`);
    }
    return n;
  };
}

export function parsePositiveNumber(value: string): number {
  const x = Number(value);
  if (!Number.isFinite(x) || x <= 0)
    throw new TypeError(`expected a positive number, got ${value}`);
  return x;
}

/** `--rank`: "auto" or a positive integer (a bad value exits 2 before any work). */
export function parseRank(value: string): RankOption {
  return value === "auto" ? "auto" : parsePositiveInteger("--rank")(value);
}

export function parseInit(value: string): InitMode {
  if (!(INIT_MODES as readonly string[]).includes(value)) {
    throw new TypeError(`--init: expected one of ${INIT_MODES.join(", ")}, got ${value}`);
  }
  return value as InitMode;
}

export function parseShare(value: string): ShareMode {
  if (value !== "B" && value !== "A") throw new TypeError(`--share: expected B or A, got ${value}`);
  return value;
}

/** The options `fit` and `eval` share: the learner's size and strength, the seed and the data. */
export function addLearnerOptions(command: Command): Command {
  return command
    .option(
      "--rank <k|auto>",
      "Rank k of the shared subspace; auto: the smallest k of 1, 2, 4 … 32 (capped by users and pairs) within half a standard error of the best validation log-likelihood",
      parseRank,
      DEFAULT_FIT_RANK,
    )
    .option("--l2 <x>", "Ridge strength", parsePositiveNumber, DEFAULT_CLI_L2)
    .option(
      "--l2-user <x>",
      "Ridge strength on each user's W",
      parsePositiveNumber,
      DEFAULT_CLI_L2_USER,
    )
    .option("--seed <s>", "Seed", parseNonNegativeInteger, 0)
    .option("--cache <dir>", "Feature cache directory", DEFAULT_FEATURE_CACHE)
    .option("--skip-bad", "Skip malformed lines instead of stopping", false);
}
