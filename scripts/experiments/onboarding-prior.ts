/**
 * How strongly should a new user's W lean on the population prior? Trains P-ShareLoRA once on a
 * synth directory's train.jsonl, then runs the onboarding curve of newusers.jsonl with τ chosen
 * by cross-validation on each draw's own pairs (what the server does), over other grids, and
 * fixed.
 *
 *   node --import tsx scripts/experiments/onboarding-prior.ts /tmp/s [--rank k] [--l2-user x]
 *     [--draws n] [--tau 0.3,1,3] [--grids "0.1,0.3,1,3,10;0.3,1,3"]
 */
import { join } from "node:path";
import { datasetFeatures } from "../../src/commands/features.js";
import { DEFAULT_MODEL_DIR } from "../../src/config.js";
import { readBayesBeside } from "../../src/training/eval/index.js";
import { DEFAULT_CURVE_NS, newUserCurve } from "../../src/training/eval/new-user-curve.js";
import { trainVariant } from "../../src/training/eval/seen-users.js";
import { userBlocks } from "../../src/training/eval/user-blocks.js";
import { buildSharedData } from "../../src/training/shared/index.js";
import { groupByUser } from "../../src/training/user-pairs.js";

const dir = process.argv[2];
if (dir === undefined) throw new TypeError("usage: onboarding-prior.ts SYNTH_DIR [--tau 1,3]");
const flag = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? fallback : process.argv[i + 1]!;
};
const settings = {
  rank: Number(flag("--rank", "2")),
  l2: Number(flag("--l2", "0.1")),
  l2User: Number(flag("--l2-user", "10")),
  seed: 0,
};
const draws = Number(flag("--draws", "5"));
const taus = flag("--tau", "0.3,1,3").split(",").map(Number);
const grids = flag("--grids", "")
  .split(";")
  .filter((g) => g !== "")
  .map((g) => g.split(",").map(Number));
const features = await datasetFeatures({
  model: DEFAULT_MODEL_DIR,
  files: ["train.jsonl", "newusers.jsonl"].map((f) => join(dir, f)),
  cacheDir: ".cache/features",
  skipBad: false,
});
const [train, newUsers] = features.datasets;
const { d, m } = features;
const data = buildSharedData(groupByUser(train!), d, m, { seed: settings.seed });
const blocks = userBlocks(groupByUser(newUsers!), d, m);
const { model } = trainVariant(data, settings, "B", "global");
if (model.share !== "B") throw new Error("expected a share-B model");
const bayes = await readBayesBeside(join(dir, "test.jsonl"));
const pct = (x: number | null | undefined) => (x == null ? "–" : `${(100 * x).toFixed(1)}%`);
console.log(
  `Bayes (new users) ${pct(bayes?.newUsers)}; rank ${settings.rank}, λ_user ${settings.l2User}, ${draws} draws\n`,
);
console.log(`| τ | ${DEFAULT_CURVE_NS.map((n) => `n=${n}`).join(" | ")} | n=64 − n=8 |`);
console.log(`|---|${DEFAULT_CURVE_NS.map(() => "---|").join("")}---|`);
type Variant = { name: string; tau?: number; tauGrid?: readonly number[] };
const variants: Variant[] = [
  { name: "cross-validated, default grid" },
  ...grids.map((grid) => ({ name: `cross-validated over ${grid.join(", ")}`, tauGrid: grid })),
  ...taus.map((tau) => ({ name: `fixed ${tau}`, tau })),
];
for (const { name, ...choice } of variants) {
  const curve = newUserCurve(blocks, model, {
    ns: DEFAULT_CURVE_NS,
    draws,
    seed: settings.seed,
    l2: settings.l2,
    ...choice,
  });
  const acc = curve.methods[0]!.accuracy;
  const at = (n: number) => acc[curve.ns.indexOf(n)] ?? null;
  const gap = at(64) !== null && at(8) !== null ? 100 * (at(64)! - at(8)!) : null;
  console.log(`| ${name} | ${acc.map(pct).join(" | ")} | ${gap?.toFixed(1) ?? "–"} |`);
}
