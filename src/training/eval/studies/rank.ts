/**
 * Rank study: does `--rank auto` track the planted rank r, at how many pairs per user, and what
 * does a k below r cost? Per (r, pairs, seed): the chosen k, and the held-out accuracy at the
 * chosen k, at k = r and at k = r/2 (k = 0 being the global head), beside the share of the planted
 * user matrix's energy beyond r/2 (the tail a too-small k cannot represent).
 */
import { RANK_GRID, rankByRule, selectRank } from "../../rank-selection.js";
import { formatNumber, formatPercent, type Interval, meanInterval } from "./interval.js";
import { intervalPlot } from "./interval-plot.js";
import { plantedPopulation } from "./planted-population.js";
import { globalAccuracy, STUDY_L2, seenAccuracy } from "./study-methods.js";
import type { StudyContext, StudyOutput } from "./study-types.js";

export const RANK_STUDY = {
  d: 16,
  m: 2,
  ranks: [1, 2, 4, 8],
  pairs: [16, 32, 64],
  users: { quick: 40, full: 80 },
  testPairs: 16,
  disagreement: 1.5,
} as const;

interface Cell {
  r: number;
  pairs: number;
  chosen: Interval;
  exact: number;
  atChosen: Interval;
  /** The k of the best mean validation log-likelihood, without a rule against noise. */
  best: Interval;
  atBest: Interval;
  /** The one-standard-error rule, for comparison with the default half. */
  oneSe: Interval;
  atOneSe: Interval;
  atR: Interval | null;
  atHalf: Interval;
  global: Interval;
  tail: Interval;
  grids: string[];
}

export function rankStudy(context: StudyContext): StudyOutput {
  const started = performance.now();
  const s = RANK_STUDY;
  const users = context.quick ? s.users.quick : s.users.full;
  const cells: Cell[] = [];
  for (const r of s.ranks) {
    for (const pairs of s.pairs) {
      context.log(`rank study: r = ${r}, ${pairs} pairs per user, ${context.seeds.length} seeds`);
      const rows = context.seeds.map((seed) => {
        const population = plantedPopulation({
          d: s.d,
          m: s.m,
          r,
          users,
          pairs,
          testPairs: s.testPairs,
          newUsers: 0,
          newUserPairs: 0,
          disagreement: s.disagreement,
          spread: 1,
          seed,
        });
        const { selection, models } = selectRank(population.data, { ...STUDY_L2, seed });
        const accuracyAt = (k: number) => {
          const i = selection.grid.indexOf(k);
          return i < 0 ? null : seenAccuracy(population, models[i]!);
        };
        const global = globalAccuracy(population, seed);
        const half = r / 2;
        const total = population.spectrum.reduce((a, b) => a + b, 0);
        const tail = population.spectrum.slice(Math.floor(half)).reduce((a, b) => a + b, 0);
        return {
          chosen: selection.chosen,
          atChosen: accuracyAt(selection.chosen)!,
          best: selection.best,
          atBest: accuracyAt(selection.best)!,
          oneSe: rankByRule(selection.curve, 1),
          atOneSe: accuracyAt(rankByRule(selection.curve, 1))!,
          atR: accuracyAt(r),
          atHalf: half < 1 ? global : (accuracyAt(half) ?? Number.NaN),
          global,
          tail: tail / total,
          grid: selection.grid.join(","),
        };
      });
      const atR = rows.map((x) => x.atR);
      cells.push({
        r,
        pairs,
        chosen: meanInterval(rows.map((x) => x.chosen)),
        exact: rows.filter((x) => x.chosen === r).length,
        atChosen: meanInterval(rows.map((x) => x.atChosen)),
        best: meanInterval(rows.map((x) => x.best)),
        atBest: meanInterval(rows.map((x) => x.atBest)),
        oneSe: meanInterval(rows.map((x) => x.oneSe)),
        atOneSe: meanInterval(rows.map((x) => x.atOneSe)),
        atR: atR.every((v) => v !== null) ? meanInterval(atR as number[]) : null,
        atHalf: meanInterval(rows.map((x) => x.atHalf)),
        global: meanInterval(rows.map((x) => x.global)),
        tail: meanInterval(rows.map((x) => x.tail)),
        grids: [...new Set(rows.map((x) => x.grid))],
      });
    }
  }
  const n = context.seeds.length;
  const lines = [
    `## Rank study: chosen k against the planted rank r (${users} users, d = ${s.d}, m = ${s.m}, disagreement ${s.disagreement}, ${s.testPairs} held-out pairs per user, ${n} seeds; mean ± 95% interval)`,
    "",
    `Grid ${RANK_GRID.join(", ")}, capped per population (the grids used are listed). Accuracy: held-out pairs of the training users. k = r/2 for r = 1 is the global head (k = 0).`,
    "",
    "| r | pairs/user | grid | chosen k (auto: ½-SE rule) | chose r | acc. at chosen k | k, one-SE rule | acc. at one-SE k | best-LL k (no rule) | acc. at best-LL k | acc. at k = r | acc. at k = r/2 | energy beyond r/2 | global |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const c of cells) {
    lines.push(
      `| ${c.r} | ${c.pairs} | ${c.grids.join(" / ")} | ${formatNumber(c.chosen, 1)} | ${c.exact}/${n} | ${formatPercent(c.atChosen)} | ${formatNumber(c.oneSe, 1)} | ${formatPercent(c.atOneSe)} | ${formatNumber(c.best, 1)} | ${formatPercent(c.atBest)} | ${c.atR === null ? "not in grid" : formatPercent(c.atR)} | ${formatPercent(c.atHalf)} | ${formatPercent(c.tail)} | ${formatPercent(c.global)} |`,
    );
  }
  const svg = intervalPlot({
    title: "--rank auto: chosen k against pairs per user",
    xLabel: "pairs per training user",
    yLabel: "chosen k",
    xs: s.pairs,
    logX: true,
    series: s.ranks.map((r) => ({
      label: `planted r = ${r}`,
      points: s.pairs.map((p) => cells.find((c) => c.r === r && c.pairs === p)!.chosen),
    })),
  });
  return {
    name: "rank",
    markdown: `${lines.join("\n")}\n`,
    svg,
    json: { settings: { ...s, users, seeds: context.seeds }, cells },
    seconds: (performance.now() - started) / 1000,
  };
}
