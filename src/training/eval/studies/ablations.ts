/**
 * Ablations: share B against share A, and the G / WU / random initializations of share B, in the
 * settings of the other studies (few and many pairs, strong disagreement, many users, a spread
 * spectrum). Differences are paired by seed (same population, same split), so their intervals are
 * those of the difference, not of two overlapping means.
 */
import type { InitMode, ShareMode } from "../../shared/index.js";
import { formatNumber, formatPercent, type Interval, meanInterval } from "./interval.js";
import { intervalPlot } from "./interval-plot.js";
import { plantedPopulation } from "./planted-population.js";
import { fitShared, seenAccuracy } from "./study-methods.js";
import type { StudyContext, StudyOutput } from "./study-types.js";

export const ABLATION_STUDY = {
  d: 16,
  m: 2,
  r: 4,
  testPairs: 16,
  settings: [
    { label: "few pairs", users: 40, pairs: 16, disagreement: 1.5, spread: 1 },
    { label: "many pairs", users: 40, pairs: 64, disagreement: 1.5, spread: 1 },
    { label: "strong disagreement", users: 40, pairs: 32, disagreement: 4, spread: 1 },
    { label: "spread spectrum", users: 40, pairs: 32, disagreement: 2, spread: 16 },
    { label: "many users", users: 200, pairs: 32, disagreement: 1.5, spread: 1 },
  ],
  quickSettings: 4,
} as const;

const VARIANTS: readonly { key: string; label: string; share: ShareMode; init: InitMode }[] = [
  { key: "bG", label: "share B, init G", share: "B", init: "global" },
  { key: "bWU", label: "share B, init WU", share: "B", init: "warmup" },
  { key: "bRandom", label: "share B, init random", share: "B", init: "random" },
  { key: "aG", label: "share A, init G", share: "A", init: "global" },
];

interface Cell {
  label: string;
  accuracy: Record<string, Interval>;
  rounds: Record<string, Interval>;
  bMinusA: Interval;
  gMinusRandom: Interval;
  wuMinusRandom: Interval;
}

export function ablationStudy(context: StudyContext): StudyOutput {
  const started = performance.now();
  const s = ABLATION_STUDY;
  const settings = context.quick ? s.settings.slice(0, s.quickSettings) : s.settings;
  const cells: Cell[] = settings.map((setting) => {
    context.log(`ablations: ${setting.label}`);
    const rows = context.seeds.map((seed) => {
      const population = plantedPopulation({
        d: s.d,
        m: s.m,
        r: s.r,
        users: setting.users,
        pairs: setting.pairs,
        testPairs: s.testPairs,
        newUsers: 0,
        newUserPairs: 0,
        disagreement: setting.disagreement,
        spread: setting.spread,
        seed,
      });
      const out: Record<string, { accuracy: number; rounds: number }> = {};
      for (const v of VARIANTS) {
        const model = fitShared(population, s.r, seed, v.share, v.init);
        out[v.key] = { accuracy: seenAccuracy(population, model), rounds: model.report.bestRound };
      }
      return out;
    });
    const acc = (key: string) => rows.map((x) => x[key]!.accuracy);
    const diff = (a: string, b: string) => meanInterval(acc(a).map((v, i) => v - acc(b)[i]!));
    return {
      label: `${setting.label} (U = ${setting.users}, ${setting.pairs} pairs, ρ = ${setting.disagreement}, spread ${setting.spread})`,
      accuracy: Object.fromEntries(VARIANTS.map((v) => [v.key, meanInterval(acc(v.key))])),
      rounds: Object.fromEntries(
        VARIANTS.map((v) => [v.key, meanInterval(rows.map((x) => x[v.key]!.rounds))]),
      ),
      bMinusA: diff("bG", "aG"),
      gMinusRandom: diff("bG", "bRandom"),
      wuMinusRandom: diff("bWU", "bRandom"),
    };
  });
  const pp = (i: Interval) => `${formatPercent(i)} pp`.replace(/^(\d)/, "+$1");
  const lines = [
    `## Ablations: share B against share A, and init G / WU / random (d = ${s.d}, m = ${s.m}, planted r = k = ${s.r}, ${context.seeds.length} seeds; mean ± 95% interval)`,
    "",
    `Held-out accuracy of the training users (${s.testPairs} pairs each); differences paired by seed, in percentage points; "best round" is the alternating round kept by early stopping (0 = the initialization itself).`,
    "",
    `| setting | ${VARIANTS.map((v) => v.label).join(" | ")} | B − A | G − random | WU − random |`,
    `|---|${VARIANTS.map(() => "---").join("|")}|---|---|---|`,
  ];
  for (const c of cells) {
    lines.push(
      `| ${c.label} | ${VARIANTS.map((v) => formatPercent(c.accuracy[v.key]!)).join(" | ")} | ${pp(c.bMinusA)} | ${pp(c.gMinusRandom)} | ${pp(c.wuMinusRandom)} |`,
    );
  }
  lines.push(
    "",
    `| setting | ${VARIANTS.map((v) => `best round: ${v.label}`).join(" | ")} |`,
    `|---|${VARIANTS.map(() => "---").join("|")}|`,
  );
  for (const c of cells) {
    lines.push(
      `| ${c.label} | ${VARIANTS.map((v) => formatNumber(c.rounds[v.key]!, 1)).join(" | ")} |`,
    );
  }
  const xs = cells.map((_, i) => i + 1);
  const svg = intervalPlot({
    title: "Ablations: held-out accuracy per setting (1 … n as in the table)",
    xLabel: `setting ${xs.join(", ")}, in the table's order`,
    yLabel: "held-out accuracy",
    xs,
    series: VARIANTS.map((v) => ({
      label: v.label,
      points: cells.map((c) => c.accuracy[v.key]!),
    })),
  });
  return {
    name: "ablations",
    markdown: `${lines.join("\n")}\n`,
    svg,
    json: { settings: { ...s, seeds: context.seeds }, cells },
    seconds: (performance.now() - started) / 1000,
  };
}
