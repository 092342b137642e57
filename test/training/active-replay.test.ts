import { describe, expect, it } from "vitest";
import { SeededRandom } from "../../src/math/random.js";
import { type ReplayUser, replayOnboarding } from "../../src/training/active/replay.js";

const P = 4;

/**
 * Planted users: their true utility is base(x) + W*·P(x) with W* drawn from the prior N(0, I),
 * so the model is exactly right; texts differ in how far their projections reach (most pairs of
 * a pool say little about W, a few say much), as real candidates do.
 */
function plantedUser(seed: number): ReplayUser {
  const random = new SeededRandom(seed);
  const wTrue = Float64Array.from({ length: P }, () => random.gaussian());
  const text = () => {
    const reach = [0.15, 0.5, 2][Math.floor(random.nextUnit() * 3)]!;
    return {
      base: 0.3 * random.gaussian(),
      proj: Array.from({ length: P }, () => reach * random.gaussian()),
    };
  };
  const utility = (t: { base: number; proj: number[] }) =>
    t.base + t.proj.reduce((s, x, i) => s + x * wTrue[i]!, 0);
  const candidates = 16;
  const responses = 4;
  const texts = Array.from({ length: candidates * responses }, text);
  const offsets = Int32Array.from({ length: candidates + 1 }, (_, c) => c * responses);
  const testPairs = Array.from({ length: 60 }, () => [text(), text()] as const);
  return {
    user: `u${seed}`,
    pool: {
      p: P,
      base: Float64Array.from(texts, (t) => t.base),
      proj: Float64Array.from(texts.flatMap((t) => t.proj)),
      offsets,
    },
    utilities: Float64Array.from(texts, utility),
    test: {
      n: testPairs.length,
      o: Float64Array.from(testPairs, ([a, b]) => a.base - b.base),
      g: Float64Array.from(testPairs.flatMap(([a, b]) => a.proj.map((x, i) => x - b.proj[i]!))),
      truth: Float64Array.from(testPairs, ([a, b]) => utility(a) - utility(b)),
    },
  };
}

describe("replaying active onboarding on planted users", () => {
  const users = Array.from({ length: 16 }, (_, i) => plantedUser(100 + i));
  const prior = {
    mean: new Float64Array(P),
    cov: Float64Array.from({ length: P * P }, (_, i) => (i % (P + 1) === 0 ? 1 : 0)),
  };
  const result = replayOnboarding(users, {
    prior,
    strategies: ["information", "uncertainty", "random"],
    seeds: [1, 2, 3, 4, 5],
    perRound: 4,
    rounds: 4,
  });
  const at = (strategy: string, questions: number) =>
    result.curves.find((c) => c.strategy === strategy)!.accuracy[
      result.questions.indexOf(questions)
    ]!;

  it("information beats random after 8 questions, averaged over users and seeds", () => {
    expect(result.questions).toEqual([0, 4, 8, 12, 16]);
    expect(at("information", 8)).toBeGreaterThan(at("random", 8) + 0.01);
  });

  it("every strategy starts from the global reward and learns; none beats the true model", () => {
    const start = at("random", 0);
    for (const curve of result.curves) {
      expect(curve.accuracy[0]).toBe(start);
      expect(curve.accuracy.at(-1)!).toBeGreaterThan(start);
      for (const a of curve.accuracy) expect(a).toBeLessThanOrEqual(result.bayes);
    }
  });
});
