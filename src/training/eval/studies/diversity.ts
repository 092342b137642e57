/**
 * Diversity study: global, local and P-ShareLoRA as users disagree more — the planted personal
 * part ‖B*·W_i*‖ against the shared ‖Θ0*‖ (disagreement ρ), and, at fixed ρ, the spread of the
 * planted directions' scales, reported as the condition number of the planted user matrix.
 */
import { selectRank } from "../../rank-selection.js";
import { formatNumber, formatPercent, type Interval, meanInterval } from "./interval.js";
import { intervalPlot } from "./interval-plot.js";
import { plantedPopulation } from "./planted-population.js";
import {
  fitShared,
  globalAccuracy,
  localAccuracy,
  STUDY_L2,
  seenAccuracy,
} from "./study-methods.js";
import type { StudyContext, StudyOutput } from "./study-types.js";

export const DIVERSITY_STUDY = {
  d: 16,
  m: 2,
  r: 4,
  users: 40,
  pairs: 32,
  testPairs: 16,
  disagreements: [0.25, 0.5, 1, 2, 4],
  spreads: { quick: [1, 4, 16], full: [1, 4, 16, 64] },
  spreadDisagreement: 2,
} as const;

interface Cell {
  disagreement: number;
  spread: number;
  condition: Interval;
  bayes: Interval;
  global: Interval;
  local: Interval;
  shared: Interval;
  auto: Interval;
  autoK: Interval;
}

export function diversityStudy(context: StudyContext): StudyOutput {
  const started = performance.now();
  const s = DIVERSITY_STUDY;
  const settings = [
    ...s.disagreements.map((disagreement) => ({ disagreement, spread: 1 })),
    ...(context.quick ? s.spreads.quick : s.spreads.full)
      .filter((spread) => spread !== 1)
      .map((spread) => ({ disagreement: s.spreadDisagreement, spread })),
  ];
  const cells: Cell[] = settings.map(({ disagreement, spread }) => {
    context.log(`diversity study: disagreement ${disagreement}, spread ${spread}`);
    const rows = context.seeds.map((seed) => {
      const population = plantedPopulation({
        d: s.d,
        m: s.m,
        r: s.r,
        users: s.users,
        pairs: s.pairs,
        testPairs: s.testPairs,
        newUsers: 0,
        newUserPairs: 0,
        disagreement,
        spread,
        seed,
      });
      const auto = selectRank(population.data, { ...STUDY_L2, seed });
      return {
        condition: population.condition,
        bayes: population.bayes,
        global: globalAccuracy(population, seed),
        local: localAccuracy(population, seed),
        shared: seenAccuracy(population, fitShared(population, s.r, seed)),
        auto: seenAccuracy(population, auto.model),
        autoK: auto.selection.chosen,
      };
    });
    const of = (key: keyof (typeof rows)[number]) => meanInterval(rows.map((x) => x[key]));
    return {
      disagreement,
      spread,
      condition: of("condition"),
      bayes: of("bayes"),
      global: of("global"),
      local: of("local"),
      shared: of("shared"),
      auto: of("auto"),
      autoK: of("autoK"),
    };
  });
  const lines = [
    `## Diversity study: accuracy as users disagree more (${s.users} users × ${s.pairs} pairs, d = ${s.d}, m = ${s.m}, planted r = ${s.r}, ${context.seeds.length} seeds; mean ± 95% interval)`,
    "",
    `Disagreement ρ = ‖B*·W_i*‖ / ‖Θ0*‖ in expectation; spread = ratio of the largest to the smallest planted direction's scale (at ρ = ${s.spreadDisagreement}), shown as the condition number κ of the planted user matrix [W_1* … W_U*]. Accuracy on ${s.testPairs} held-out pairs per training user.`,
    "",
    "| ρ | spread | κ(planted W) | Bayes | global | local (ridge) | P-ShareLoRA k = r | P-ShareLoRA auto | auto k |",
    "|---|---|---|---|---|---|---|---|---|",
  ];
  for (const c of cells) {
    lines.push(
      `| ${c.disagreement} | ${c.spread} | ${formatNumber(c.condition, 1)} | ${formatPercent(c.bayes)} | ${formatPercent(c.global)} | ${formatPercent(c.local)} | ${formatPercent(c.shared)} | ${formatPercent(c.auto)} | ${formatNumber(c.autoK, 1)} |`,
    );
  }
  const flat = cells.filter((c) => c.spread === 1);
  const svg = intervalPlot({
    title: "Held-out accuracy as users disagree more (flat spectrum)",
    xLabel: "disagreement ρ = ‖B*W_i*‖ / ‖Θ0*‖",
    yLabel: "held-out accuracy",
    xs: flat.map((c) => c.disagreement),
    logX: true,
    series: [
      { label: "Bayes (planted model)", points: flat.map((c) => c.bayes), dashed: true },
      { label: "global", points: flat.map((c) => c.global) },
      { label: "local (ridge)", points: flat.map((c) => c.local) },
      { label: "P-ShareLoRA k = r", points: flat.map((c) => c.shared) },
      { label: "P-ShareLoRA auto", points: flat.map((c) => c.auto) },
    ],
  });
  return {
    name: "diversity",
    markdown: `${lines.join("\n")}\n`,
    svg,
    json: { settings: { ...s, seeds: context.seeds }, cells },
    seconds: (performance.now() - started) / 1000,
  };
}
