import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { registerEval } from "../../src/commands/eval.js";
import { ConfigError } from "../../src/config.js";
import { meanInterval, tQuantile975 } from "../../src/training/eval/studies/interval.js";
import { intervalPlot } from "../../src/training/eval/studies/interval-plot.js";
import { plantedPopulation } from "../../src/training/eval/studies/planted-population.js";
import { runStudies } from "../../src/training/eval/studies/study-runner.js";
import { type RankCurvePoint, rankByRule } from "../../src/training/rank-selection.js";

const spec = {
  d: 8,
  m: 2,
  r: 4,
  users: 200,
  pairs: 10,
  testPairs: 6,
  newUsers: 5,
  newUserPairs: 12,
  disagreement: 2,
  spread: 1,
  seed: 3,
};

describe("the studies' parts", () => {
  it("a 95% interval is mean ± t(0.975, n − 1)·s/√n", () => {
    const i = meanInterval([1, 2, 3, 4, 5]);
    expect(i.mean).toBe(3);
    expect(i.half).toBeCloseTo((2.776 * Math.sqrt(2.5)) / Math.sqrt(5), 12);
    expect([i.low, i.high]).toEqual([i.mean - i.half, i.mean + i.half]);
    expect(tQuantile975(9)).toBe(2.262);
    expect(tQuantile975(100)).toBe(1.96);
    expect(() => meanInterval([1])).toThrow(/at least 2 seeds/);
  });

  it("plants users whose matrix has the asked spread, with test and new users apart from training", () => {
    const flat = plantedPopulation(spec);
    const spread = plantedPopulation({ ...spec, spread: 16 });
    // 200 users × m = 2 columns against r = 4 rows: the sample spectrum is close to the planted one.
    expect(flat.condition).toBeLessThan(1.5);
    expect(spread.condition).toBeGreaterThan(12);
    expect(spread.condition).toBeLessThan(21);
    const u = flat.data.users[0]!;
    expect(u.train.count + u.validation.count).toBe(10);
    expect(flat.test.get(u.user)!.count).toBe(6);
    expect(flat.newUsers.size).toBe(5);
    for (const id of flat.newUsers.keys()) expect(flat.test.has(id)).toBe(false);
    // Same seed, same population: the planted model does not depend on how many new users are drawn.
    const fewer = plantedPopulation({ ...spec, newUsers: 0 });
    expect(fewer.data.users[3]!.train.deltas).toEqual(flat.data.users[3]!.train.deltas);
  });

  it("the rule with c standard errors: c = 0 keeps the best k, a large c the smallest", () => {
    const point = (k: number, ll: number, se: number): RankCurvePoint => ({
      k,
      validationLogLikelihood: ll,
      standardError: se,
      validationAccuracy: 0.5,
      l2User: 1,
      rounds: 1,
      seconds: 0,
    });
    const curve = [point(1, -0.6, 0.06), point(2, -0.57, 0.05), point(4, -0.55, 0)];
    expect(rankByRule(curve, 0)).toBe(4);
    expect(rankByRule(curve, 1)).toBe(1);
    expect(rankByRule(curve, 0.5)).toBe(2);
  });

  it("plots every mean with its interval bar", () => {
    const svg = intervalPlot({
      title: "t",
      xLabel: "x",
      yLabel: "y",
      xs: [1, 2],
      series: [{ label: "a", points: [meanInterval([0.5, 0.6]), null] }],
    });
    expect(svg.match(/<circle /g)).toHaveLength(1);
    expect(svg).toMatch(/<line x1="([\d.]+)" x2="\1" y1="[\d.]+" y2="[\d.]+" stroke="#1f77b4"\/>/);
  });

  it("eval --study refuses an unknown study and a study with fewer than two seeds", async () => {
    const program = new Command();
    registerEval(program);
    const command = program.commands.find((c) => c.name() === "eval")!;
    expect(() => command.parseOptions(["--study", "speed"])).toThrow(ConfigError);
    command.parseOptions(["--study", "rank", "--quick"]);
    expect(command.opts()).toMatchObject({ study: "rank", quick: true, seeds: 5 });
    await expect(runStudies({ study: "rank", quick: true, seeds: 1, out: null })).rejects.toThrow(
      /at least|≥ 2/,
    );
  });
});
