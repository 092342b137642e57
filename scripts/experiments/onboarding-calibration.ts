/**
 * Which rule for a new user's prior strength τ gives calibrated posteriors? Trains P-ShareLoRA
 * once on a synth directory's train.jsonl, then runs the onboarding curve of newusers.jsonl with
 * each rule and prints held-out accuracy, ECE of P(a ≻ b) and the coverage of the one-sided 95%
 * pessimistic bound (β = 1.645) at each n.
 *
 *   node --import tsx scripts/experiments/onboarding-calibration.ts /tmp/s [--rank k] [--draws n]
 */
import { join } from "node:path";
import { datasetFeatures } from "../../src/commands/features.js";
import { DEFAULT_MODEL_DIR } from "../../src/config.js";
import { type CurveOptions, newUserCurve } from "../../src/training/eval/new-user-curve.js";
import { readPlantedBeside, trueLogOdds } from "../../src/training/eval/planted-truth.js";
import { trainVariant } from "../../src/training/eval/seen-users.js";
import { userBlocks } from "../../src/training/eval/user-blocks.js";
import { buildSharedData } from "../../src/training/shared/index.js";
import { groupByUser } from "../../src/training/user-pairs.js";

const dir = process.argv[2];
if (dir === undefined) throw new TypeError("usage: onboarding-calibration.ts SYNTH_DIR");
const flag = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? fallback : process.argv[i + 1]!;
};
const settings = {
  rank: Number(flag("--rank", "2")),
  l2: 0.1,
  l2User: Number(flag("--l2-user", "10")),
  seed: 0,
};
const draws = Number(flag("--draws", "5"));
const features = await datasetFeatures({
  model: DEFAULT_MODEL_DIR,
  files: ["train.jsonl", "newusers.jsonl"].map((f) => join(dir, f)),
  cacheDir: ".cache/features",
});
const [train, newUsers] = features.datasets;
const { d, m } = features;
const data = buildSharedData(groupByUser(train!), d, m, { seed: settings.seed });
const blocks = userBlocks(groupByUser(newUsers!), d, m);
const { model } = trainVariant(data, settings, "B", "global");
if (model.share !== "B") throw new Error("expected a share-B model");
const planted = await readPlantedBeside(join(dir, "newusers.jsonl"));
const truth = planted === null ? undefined : (trueLogOdds(planted, newUsers!.rows) ?? undefined);
const ns = [2, 4, 8, 16, 32];
const pct = (x: number | null | undefined) => (x == null ? "–" : `${(100 * x).toFixed(1)}`);
const variants: [string, Partial<CurveOptions>][] = [
  ["evidence, hyperprior sd 1 (served)", {}],
  ["cross-validation, 1-SE rule to τ=1 (before)", { strength: "cross-validation" }],
  ["fixed τ = 1", { tau: 1 }],
  ["fixed τ = 0.1", { tau: 0.1 }],
  ["fixed τ = 0.01", { tau: 0.01 }],
];
console.log(`| rule | ${ns.map((n) => `n=${n} acc / ECE / cov`).join(" | ")} |`);
console.log(`|---|${ns.map(() => "---|").join("")}`);
for (const [name, choice] of variants) {
  const curve = newUserCurve(blocks, model, {
    ns,
    draws,
    seed: settings.seed,
    l2: settings.l2,
    ...(truth === undefined ? {} : { truth }),
    ...choice,
  });
  const acc = curve.methods[0]!.accuracy;
  const cells = ns.map(
    (_, i) =>
      `${pct(acc[i])} / ${pct(curve.calibration.ece[i])} / ${pct(curve.calibration.coverage[i])}`,
  );
  console.log(`| ${name} | ${cells.join(" | ")} |`);
}
