import { describe, expect, it } from "vitest";
import { ESTIMATORS } from "../../src/shaping/estimators.js";
import {
  InvalidLogprobsError,
  penalties,
  RewardOverflowError,
  shapeRewards,
} from "../../src/shaping/shape.js";

// Deterministic log-probs in (−12, 0] from a small LCG.
function logprobs(n: number, seed: number): number[] {
  let s = seed >>> 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out.push(-12 * (s / 2 ** 32));
  }
  return out;
}

describe("shapeRewards", () => {
  it("works a small example by hand", () => {
    // kl penalties: l = [ln2, −ln2]; β = 0.1 → shaped = [−0.1·ln2, +0.1·ln2 + 2]
    const out = shapeRewards({
      reward: 2,
      policy: [Math.log(0.5), Math.log(0.25)],
      ref: [Math.log(0.25), Math.log(0.5)],
      estimator: "kl",
      beta: 0.1,
    });
    expect(out.penalties[0]).toBeCloseTo(Math.LN2, 15);
    expect(out.shaped[0]).toBeCloseTo(-0.1 * Math.LN2, 15);
    expect(out.shaped[1]).toBeCloseTo(0.1 * Math.LN2 + 2, 15);
    expect(out.total).toBeCloseTo(2, 15);
  });

  it("shaped sums to total exactly and to reward − β·Σpenalty within 1e-12", () => {
    for (const estimator of ESTIMATORS) {
      for (const n of [1, 7, 300]) {
        const policy = logprobs(n, 1 + n);
        const ref = logprobs(n, 1000 + n);
        const out = shapeRewards({ reward: -1.75, policy, ref, estimator, beta: 0.05 });
        expect(out.shaped.length).toBe(n);
        let sum = 0;
        for (const v of out.shaped) sum += v;
        expect(sum).toBe(out.total);
        const pen = penalties(estimator, policy, ref);
        expect(out.penalties).toEqual(Array.from(pen));
        const reference = pen.reduce((acc, p) => acc - 0.05 * p, 0) - 1.75;
        expect(Math.abs(out.total - reference)).toBeLessThan(
          1e-12 * Math.max(1, Math.abs(reference)),
        );
        // the reward sits at the last token only
        for (let t = 0; t < n - 1; t++) expect(out.shaped[t]).toBe(-0.05 * pen[t]! + 0);
      }
    }
  });

  it("with β = 0 only the reward remains, as +0 elsewhere", () => {
    const out = shapeRewards({
      reward: 3,
      policy: [-1, -2, -3],
      ref: [-2, -2, -1],
      estimator: "k3",
      beta: 0,
    });
    expect(out.shaped).toEqual([0, 0, 3]);
    expect(Object.is(out.shaped[0], 0)).toBe(true);
    expect(out.total).toBe(3);
  });

  it("stays finite for log-probs down to −1e4 with every estimator", () => {
    const policy = [-1e4, 0, -1e4, -5000];
    const ref = [0, -1e4, -1e4, -1];
    for (const estimator of ESTIMATORS) {
      const out = shapeRewards({ reward: 1, policy, ref, estimator, beta: 1 });
      expect(out.shaped.every(Number.isFinite)).toBe(true);
      expect(Number.isFinite(out.total)).toBe(true);
    }
  });

  it("names the caller's fields in validation errors", () => {
    const fields = { policy: "items[3].logprobs", ref: "items[3].ref_logprobs", beta: "kl_coef" };
    const base = { reward: 0, policy: [-1], ref: [-1], estimator: "kl" as const, fields };
    for (const beta of [-0.1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => shapeRewards({ ...base, beta })).toThrow(InvalidLogprobsError);
      expect(() => shapeRewards({ ...base, beta })).toThrow(/^kl_coef: expected a finite β ≥ 0/);
    }
    expect(() => shapeRewards({ ...base, beta: 1, ref: [0.2] })).toThrow(
      /^items\[3\]\.ref_logprobs\[0\]/,
    );
    expect(() => shapeRewards({ ...base, beta: 1, reward: Number.NaN })).toThrow(/^reward:/);
  });

  it("reports overflow of β·penalty instead of returning Infinity", () => {
    const run = () =>
      shapeRewards({ reward: 0, policy: [0], ref: [-1e4], estimator: "kl", beta: 1e306 });
    expect(run).toThrow(RewardOverflowError);
    try {
      run();
    } catch (error) {
      expect((error as RewardOverflowError).code).toBe("REWARD_OVERFLOW");
      expect((error as RewardOverflowError).field).toBe("beta");
    }
  });
});
