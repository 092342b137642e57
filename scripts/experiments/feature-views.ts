/**
 * Which feature views let the learners use what users disagree about? Runs `sharelora eval`'s
 * learners on the default backbone's Φ (the encoder's pooled views and the surface statistics),
 * on byte-count views of the response computed here, on both, and on the surface statistics
 * alone, side by side, for one synth directory (train.jsonl, test.jsonl, newusers.jsonl,
 * bayes.json).
 *
 *   node --import tsx scripts/experiments/feature-views.ts /tmp/s [--quick] [--only NAME]
 *     [--rank k] [--l2 x] [--l2-user x] [--seen-only]
 *
 * The byte views are those of `buildDefaultBackbone({ byteCounts: true })` for the response:
 * log(1 + count) of each byte value, and of each line-initial byte (lists, headings and code
 * fences start lines); test/model/default-backbone.test.ts checks the graph against the same rule.
 */
import { join } from "node:path";
import { datasetFeatures } from "../../src/commands/features.js";
import { DEFAULT_MODEL_DIR } from "../../src/config.js";
import { SURFACE_ROWS, surfaceCounts } from "../../src/model/onnx/surface-ops.js";
import { evaluate, type FeatureSet, readBayesBeside } from "../../src/training/eval/index.js";
import type { FeatureRows } from "../../src/training/user-pairs.js";

const BYTES = 256;

/**
 * log1p counts of bytes, then of line-initial bytes (after a newline or at the start): 2·256
 * values, what the backbone's `byteCounts` view computes for one segment.
 */
function byteView(text: string): Float32Array {
  const counts = new Float32Array(2 * BYTES);
  let previousIsBreak = true;
  for (const b of Buffer.from(text, "utf8")) {
    counts[b]! += 1;
    if (previousIsBreak) counts[BYTES + b]! += 1;
    previousIsBreak = b === 0x0a;
  }
  for (let i = 0; i < counts.length; i++) counts[i] = Math.log1p(counts[i]!);
  return counts;
}

const surfaceView = (text: string) => Float32Array.from(surfaceCounts(text));

type Combine = (phi: Float32Array, response: string) => Float32Array;

function mapRows(rows: FeatureRows, combine: Combine): FeatureRows {
  const pick = (i: number, side: "chosen" | "rejected") => {
    const text = rows.rows[i]!.pair[side];
    if (typeof text !== "string") throw new TypeError("expected text comparisons");
    return combine(rows[side][i]!, text);
  };
  return {
    rows: rows.rows,
    chosen: rows.chosen.map((_, i) => pick(i, "chosen")),
    rejected: rows.rejected.map((_, i) => pick(i, "rejected")),
  };
}

function mapSet(set: FeatureSet, d: number, m: number, combine: Combine): FeatureSet {
  return {
    d,
    m,
    train: mapRows(set.train, combine),
    test: mapRows(set.test, combine),
    newUsers: set.newUsers === null ? null : mapRows(set.newUsers, combine),
  };
}

const dir = process.argv[2];
if (dir === undefined) throw new TypeError("usage: feature-views.ts SYNTH_DIR [--quick]");
const quick = process.argv.includes("--quick");
const flag = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? fallback : process.argv[i + 1]!;
};
const only = flag("--only", "");
const learner = {
  rank: Number(flag("--rank", "8")),
  l2: Number(flag("--l2", "0.1")),
  l2User: Number(flag("--l2-user", "10")),
};
const seenOnly = process.argv.includes("--seen-only");
const files = ["train.jsonl", "test.jsonl", ...(seenOnly ? [] : ["newusers.jsonl"])].map((f) =>
  join(dir, f),
);
const features = await datasetFeatures({
  model: DEFAULT_MODEL_DIR,
  files,
  cacheDir: ".cache/features",
  skipBad: false,
});
const [train, test, newUsers] = features.datasets;
const base: FeatureSet = {
  d: features.d,
  m: features.m,
  train: train!,
  test: test!,
  newUsers: newUsers ?? null,
};
const { d, m } = base;
const extra = 2 * BYTES;
// Concatenated views keep the d×m layout: the byte counts fill the response column (j = m − 1) of
// the new rows; the prompt column stays 0 there (it cancels in every comparison anyway).
const both: Combine = (phi, response) => {
  const out = new Float32Array((d + extra) * m);
  out.set(phi);
  const view = byteView(response);
  for (let r = 0; r < extra; r++) out[(d + r) * m + (m - 1)] = view[r]!;
  return out;
};
const variants: [string, FeatureSet][] = [
  [`backbone Φ (d = ${d}, m = ${m})`, base],
  [`byte views only (d = ${extra}, m = 1)`, mapSet(base, extra, 1, (_, text) => byteView(text))],
  [`backbone Φ + byte views (d = ${d + extra}, m = ${m})`, mapSet(base, d + extra, m, both)],
  [
    `surface statistics only (d = ${SURFACE_ROWS}, m = 1)`,
    mapSet(base, SURFACE_ROWS, 1, (_, text) => surfaceView(text)),
  ],
];
const bayes = await readBayesBeside(join(dir, "test.jsonl"));
const pct = (x: number | null | undefined) => (x == null ? "–" : `${(100 * x).toFixed(1)}%`);
console.log(
  `Bayes: seen ${pct(bayes?.test)}, new users ${pct(bayes?.newUsers)}; planted global vector alone ${pct(bayes?.globalTest)}\n`,
);
console.log(`rank ${learner.rank}, λ ${learner.l2}, λ_user ${learner.l2User}\n`);
console.log("| features | global | local | P-ShareLoRA | share A | new users n=8 | n=64 |");
console.log("|---|---|---|---|---|---|---|");
for (const [name, set] of variants) {
  if (only !== "" && !name.startsWith(only)) continue;
  const t0 = performance.now();
  const result = evaluate({
    features: set,
    attributes: null,
    bayes,
    quick,
    ...learner,
    seed: 0,
  });
  const mean = (prefix: string) => result.seen.find((s) => s.method.startsWith(prefix))?.mean;
  const curve = result.newUsers;
  const at = (n: number) => {
    const i = curve?.ns.indexOf(n) ?? -1;
    return i < 0 ? undefined : curve?.methods[0]?.accuracy[i];
  };
  console.log(
    `| ${name} | ${pct(mean("global"))} | ${pct(mean("local"))} | ${pct(mean("P-ShareLoRA"))} | ${pct(mean("share A"))} | ${pct(at(8))} | ${pct(at(64))} |`,
  );
  console.error(`${name}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
