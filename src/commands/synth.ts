import type { Command } from "commander";
import {
  DEFAULT_CANDIDATE_PROMPTS,
  DEFAULT_CANDIDATE_RESPONSES,
} from "../training/synth/candidates.js";
import { DEFAULT_SYNTH_OPTIONS, writeSynth } from "../training/synth/index.js";

const int = (value: string) => {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new TypeError(`expected a non-negative integer, got ${value}`);
  return n;
};

const positive = (value: string) => {
  const x = Number(value);
  if (!(Number.isFinite(x) && x > 0))
    throw new TypeError(`expected a positive number, got ${value}`);
  return x;
};

export function registerSynth(program: Command): void {
  program
    .command("synth")
    .description("Write a synthetic text-preference dataset with a planted low-rank user subspace")
    .requiredOption(
      "--out <dir>",
      "Output directory (train.jsonl, test.jsonl, newusers.jsonl, bayes.json, candidates.jsonl)",
    )
    .option("--users <n>", "Seen users", int, DEFAULT_SYNTH_OPTIONS.users)
    .option("--pairs <n>", "Training pairs per seen user", int, DEFAULT_SYNTH_OPTIONS.pairsPerUser)
    .option(
      "--test-pairs <n>",
      "Held-out pairs per seen user",
      int,
      DEFAULT_SYNTH_OPTIONS.testPairsPerUser,
    )
    .option(
      "--new-users <n>",
      "Users absent from train, for onboarding curves",
      int,
      DEFAULT_SYNTH_OPTIONS.newUsers,
    )
    .option("--new-user-pairs <n>", "Pairs per new user", int, DEFAULT_SYNTH_OPTIONS.newUserPairs)
    .option(
      "--rank <r>",
      "Rank of the planted preference subspace",
      int,
      DEFAULT_SYNTH_OPTIONS.rank,
    )
    .option(
      "--disagreement <x>",
      "How much users disagree relative to what they share (E‖U·z‖² / E‖v0‖²)",
      positive,
      DEFAULT_SYNTH_OPTIONS.disagreement,
    )
    .option(
      "--candidates <n>",
      "Candidate prompts per new user and split (pool, test) in candidates.jsonl",
      int,
      DEFAULT_CANDIDATE_PROMPTS,
    )
    .option(
      "--candidate-responses <r>",
      "Responses per candidate prompt",
      int,
      DEFAULT_CANDIDATE_RESPONSES,
    )
    .option("--seed <s>", "Seed", int, DEFAULT_SYNTH_OPTIONS.seed)
    .action(async (o) => {
      const { files, dataset } = await writeSynth(o.out, {
        users: o.users,
        pairsPerUser: o.pairs,
        testPairsPerUser: o.testPairs,
        newUsers: o.newUsers,
        newUserPairs: o.newUserPairs,
        rank: o.rank,
        seed: o.seed,
        disagreement: o.disagreement,
        candidatePrompts: o.candidates,
        candidateResponses: o.candidateResponses,
      });
      process.stdout.write(
        `${JSON.stringify({ files, rows: { train: dataset.train.length, test: dataset.test.length, newusers: dataset.newUsers.length }, bayes: dataset.bayes }, null, 2)}\n`,
      );
    });
}
