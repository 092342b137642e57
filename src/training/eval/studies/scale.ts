/**
 * Scale study: seen-user and new-user accuracy as the number of training users grows, at a fixed
 * number of pairs per user. New users give NEW_USER_PAIRS pairs each and are fitted with B frozen
 * by the server's onboarding fitter.
 */
import type { ShareBModel } from "../../shared/index.js";
import { formatPercent, type Interval, meanInterval } from "./interval.js";
import { intervalPlot } from "./interval-plot.js";
import { plantedPopulation } from "./planted-population.js";
import {
  fitShared,
  globalAccuracy,
  localAccuracy,
  newUserAccuracy,
  seenAccuracy,
} from "./study-methods.js";
import type { StudyContext, StudyOutput } from "./study-types.js";

export const SCALE_STUDY = {
  d: 16,
  m: 2,
  r: 4,
  users: [5, 20, 50, 200, 1000],
  pairs: 32,
  testPairs: 16,
  disagreement: 1.5,
  newUsers: { quick: 30, full: 100 },
  /** Pairs each new user gives; the rest of their NEW_USER_TOTAL are held out. */
  newUserPairs: 16,
  newUserTotal: 48,
} as const;

interface Cell {
  users: number;
  global: Interval;
  local: Interval;
  shared: Interval;
  newShared: Interval;
  newLocal: Interval;
  newGlobal: Interval;
}

export function scaleStudy(context: StudyContext): StudyOutput {
  const started = performance.now();
  const s = SCALE_STUDY;
  const newUsers = context.quick ? s.newUsers.quick : s.newUsers.full;
  const cells: Cell[] = s.users.map((users) => {
    context.log(`scale study: ${users} training users`);
    const rows = context.seeds.map((seed) => {
      const population = plantedPopulation({
        d: s.d,
        m: s.m,
        r: s.r,
        users,
        pairs: s.pairs,
        testPairs: s.testPairs,
        newUsers,
        newUserPairs: s.newUserTotal,
        disagreement: s.disagreement,
        spread: 1,
        seed,
      });
      const model = fitShared(population, s.r, seed) as ShareBModel;
      const fresh = newUserAccuracy(population, model, s.newUserPairs, seed);
      return {
        global: globalAccuracy(population, seed),
        local: localAccuracy(population, seed),
        shared: seenAccuracy(population, model),
        newShared: fresh.shared,
        newLocal: fresh.local,
        newGlobal: fresh.global,
      };
    });
    const of = (key: keyof (typeof rows)[number]) => meanInterval(rows.map((x) => x[key]));
    return {
      users,
      global: of("global"),
      local: of("local"),
      shared: of("shared"),
      newShared: of("newShared"),
      newLocal: of("newLocal"),
      newGlobal: of("newGlobal"),
    };
  });
  const lines = [
    `## Scale study: accuracy against the number of training users (${s.pairs} pairs per user, d = ${s.d}, m = ${s.m}, planted r = k = ${s.r}, disagreement ${s.disagreement}, ${context.seeds.length} seeds; mean ± 95% interval)`,
    "",
    `Seen users: ${s.testPairs} held-out pairs each. New users: ${newUsers} users absent from training, each fitted on ${s.newUserPairs} pairs with B frozen (population prior, τ by the onboarding fitter's evidence rule) and scored on their other ${s.newUserTotal - s.newUserPairs}.`,
    "",
    "| training users | seen: global | seen: local | seen: P-ShareLoRA | new: global | new: local | new: P-ShareLoRA |",
    "|---|---|---|---|---|---|---|",
  ];
  for (const c of cells) {
    lines.push(
      `| ${c.users} | ${formatPercent(c.global)} | ${formatPercent(c.local)} | ${formatPercent(c.shared)} | ${formatPercent(c.newGlobal)} | ${formatPercent(c.newLocal)} | ${formatPercent(c.newShared)} |`,
    );
  }
  const svg = intervalPlot({
    title: "Accuracy against the number of training users",
    xLabel: "training users",
    yLabel: "held-out accuracy",
    xs: s.users,
    logX: true,
    series: [
      { label: "seen: P-ShareLoRA", points: cells.map((c) => c.shared) },
      { label: "seen: global", points: cells.map((c) => c.global) },
      { label: "seen: local", points: cells.map((c) => c.local) },
      { label: "new: P-ShareLoRA", points: cells.map((c) => c.newShared), dashed: true },
      { label: "new: global", points: cells.map((c) => c.newGlobal), dashed: true },
    ],
  });
  return {
    name: "scale",
    markdown: `${lines.join("\n")}\n`,
    svg,
    json: { settings: { ...s, newUsers, seeds: context.seeds }, cells },
    seconds: (performance.now() - started) / 1000,
  };
}
