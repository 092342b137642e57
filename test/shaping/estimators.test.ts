import { describe, expect, it } from "vitest";
import {
  ESTIMATORS,
  type Estimator,
  K3_MAX_LOG_RATIO,
  tokenPenalty,
} from "../../src/shaping/estimators.js";
import { InvalidLogprobsError, penalties } from "../../src/shaping/shape.js";

const LN2 = Math.LN2;

describe("penalties: hand-computed values", () => {
  // Token 0: π = 0.5, π_ref = 0.25  → l = ln 2 = 0.6931471805599453
  // Token 1: π = 0.25, π_ref = 0.5  → l = −ln 2
  // Token 2: π = 0.1, π_ref = 0.4   → l = ln 0.25 = −1.3862943611198906
  const policy = [Math.log(0.5), Math.log(0.25), Math.log(0.1)];
  const ref = [Math.log(0.25), Math.log(0.5), Math.log(0.4)];
  const expected: Record<Estimator, number[]> = {
    kl: [LN2, -LN2, -1.3862943611198906],
    abs: [LN2, LN2, 1.3862943611198906],
    // ½ l²: ½·0.480453… = 0.2402265069591007; ½·1.921812… = 0.9609060278364028
    k2: [0.2402265069591007, 0.2402265069591007, 0.9609060278364028],
    // ρ = π_ref/π: 0.5 → (0.5 − 1) − ln 0.5 = ln 2 − 0.5; 2 → 1 − ln 2; 4 → 3 − ln 4
    k3: [LN2 - 0.5, 1 - LN2, 3 - 2 * LN2],
    // m = 0.375: ½·ln(0.5/0.375) = ½ ln(4/3) (the other term is negative → 0); same for token 1.
    // m = 0.25: ½·ln(0.4/0.25) = ½ ln 1.6 = 0.23500181462286782
    js: [0.5 * Math.log(4 / 3), 0.5 * Math.log(4 / 3), 0.5 * Math.log(1.6)],
    none: [0, 0, 0],
  };
  for (const estimator of ESTIMATORS) {
    it(`${estimator} matches the worked values to 1e-14`, () => {
      const got = penalties(estimator, policy, ref);
      expect(got).toBeInstanceOf(Float64Array);
      expect(got.length).toBe(3);
      got.forEach((v, t) => {
        expect(Math.abs(v - expected[estimator][t]!)).toBeLessThan(1e-14);
      });
    });
  }

  it("k3 is accurate where expm1(−l) + l would cancel (series branch)", () => {
    // e^{−l} − 1 + l = l²/2 − l³/6 + l⁴/24 − …; for l = 1e−6: 5e−13 − 1.6667e−19
    const l = 1e-6;
    const series = (x: number) => {
      let sum = 0;
      let term = 1;
      for (let n = 1; n <= 30; n++) {
        term *= -x / n;
        if (n >= 2) sum += term;
      }
      return sum;
    };
    for (const lr of [l, -l, 0.05, -0.05, 0.0999, -0.0999, 0.1, -0.1]) {
      const got = tokenPenalty("k3", 0 - Math.max(0, -lr), -Math.max(0, lr));
      // logπ − logπ_ref above is exactly lr for these values
      expect(Math.abs(got - series(lr)) / series(lr)).toBeLessThan(1e-12);
    }
    for (const lr of [0.5, -0.5, 3, -3]) {
      const got = tokenPenalty("k3", -Math.max(0, -lr), -Math.max(0, lr));
      const ref = Math.exp(-lr) - 1 + lr;
      expect(Math.abs(got - ref) / ref).toBeLessThan(1e-14);
    }
  });

  it("js agrees with the probability-space formula for moderate log-probs", () => {
    for (const [p, q] of [
      [-0.1, -2],
      [-3, -0.5],
      [-7, -7.25],
    ] as const) {
      const logM = Math.log((Math.exp(p) + Math.exp(q)) / 2);
      const ref = 0.5 * (Math.max(0, p - logM) + Math.max(0, q - logM));
      expect(Math.abs(tokenPenalty("js", p, q) - ref)).toBeLessThan(1e-14);
    }
  });
});

describe("penalties: properties", () => {
  // A fixed grid of log-probs from −1e4 to 0, denser near 0.
  const grid = [0, -1e-12, -1e-6, -0.01, -0.3, -1, -2.5, -10, -50, -300, -709, -710, -5000, -1e4];

  it("k2, k3, abs and js are non-negative and finite everywhere on the grid", () => {
    for (const p of grid) {
      for (const q of grid) {
        for (const e of ESTIMATORS) {
          const v = tokenPenalty(e, p, q);
          expect(Number.isFinite(v)).toBe(true);
          if (e !== "kl") expect(v).toBeGreaterThanOrEqual(0);
        }
        expect(tokenPenalty("js", p, q)).toBeLessThanOrEqual(0.5 * LN2 + 1e-15);
      }
    }
  });

  it("every estimator is exactly 0 when π = π_ref", () => {
    for (const e of ESTIMATORS) {
      const got = penalties(e, grid, grid);
      expect(Array.from(got)).toEqual(grid.map(() => 0));
    }
  });

  it("k3 ≥ 0 ordering: k3 grows with |l| on both sides", () => {
    const ks = [-40, -4, -0.4, 0, 0.4, 4, 40].map((l) =>
      tokenPenalty("k3", Math.min(0, l), Math.min(0, -l)),
    );
    expect(ks[0]!).toBeGreaterThan(ks[1]!);
    expect(ks[1]!).toBeGreaterThan(ks[2]!);
    expect(ks[2]!).toBeGreaterThan(ks[3]!);
    expect(ks[4]!).toBeGreaterThan(ks[3]!);
    expect(ks[5]!).toBeGreaterThan(ks[4]!);
    expect(ks[6]!).toBeGreaterThan(ks[5]!);
  });
});

describe("penalties: stability down to −1e4", () => {
  const capped = Math.expm1(K3_MAX_LOG_RATIO) - K3_MAX_LOG_RATIO;

  it("k3 saturates at k3(−700) when π_ref/π overflows float64 and is exact just above the cap", () => {
    expect(Number.isFinite(capped)).toBe(true);
    expect(capped).toBeGreaterThan(1e303);
    expect(tokenPenalty("k3", -1e4, 0)).toBe(capped);
    expect(tokenPenalty("k3", -710, 0)).toBe(capped);
    expect(tokenPenalty("k3", -K3_MAX_LOG_RATIO, 0)).toBe(capped);
    // l = −699: e^{699} − 1 − 699, no cap
    const at699 = tokenPenalty("k3", -699, 0);
    expect(Math.abs(at699 - (Math.exp(699) - 700)) / at699).toBeLessThan(1e-14);
    expect(at699).toBeLessThan(capped);
  });

  it("gives the exact values at the extremes", () => {
    // π = 1, π_ref = e^{−1e4}: l = 1e4
    expect(tokenPenalty("kl", 0, -1e4)).toBe(1e4);
    expect(tokenPenalty("abs", -1e4, 0)).toBe(1e4);
    expect(tokenPenalty("k2", -1e4, 0)).toBe(5e7);
    // k3(1e4) = e^{−1e4} − 1 + 1e4 = 9999 in float64
    expect(tokenPenalty("k3", 0, -1e4)).toBe(9999);
    // js → ½ ln 2 as the two distributions separate
    expect(Math.abs(tokenPenalty("js", 0, -1e4) - 0.5 * LN2)).toBeLessThan(1e-15);
    expect(Math.abs(tokenPenalty("js", -1e4, 0) - 0.5 * LN2)).toBeLessThan(1e-15);
    // both tiny and close: l = −0.5, js as for moderate values (shift-invariant in log space)
    expect(
      Math.abs(tokenPenalty("js", -1e4 - 0.5, -1e4) - tokenPenalty("js", -0.5, 0)),
    ).toBeLessThan(1e-11);
  });
});

describe("penalties: validation", () => {
  const fields = { policy: "items[3].logprobs", ref: "items[3].ref_logprobs" };
  const catchError = (fn: () => unknown): InvalidLogprobsError => {
    try {
      fn();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidLogprobsError);
      return error as InvalidLogprobsError;
    }
    throw new Error("expected InvalidLogprobsError");
  };

  it("rejects arrays of different lengths, naming the reference field", () => {
    const e = catchError(() => penalties("k3", [-1, -2], [-1], fields));
    expect(e.code).toBe("INVALID_LOGPROBS");
    expect(e.field).toBe("items[3].ref_logprobs");
    expect(e.message).toContain("items[3].ref_logprobs");
    expect(e.message).toContain("expected 2");
  });

  it("rejects empty arrays", () => {
    const e = catchError(() => penalties("kl", [], [], fields));
    expect(e.field).toBe("items[3].logprobs");
  });

  it("rejects non-finite values with the token index", () => {
    for (const bad of [Number.NaN, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY]) {
      const e = catchError(() => penalties("js", [-1, -1, -1], [-1, -1, bad], fields));
      expect(e.field).toBe("items[3].ref_logprobs");
      expect(e.index).toBe(2);
      expect(e.message).toContain("items[3].ref_logprobs[2]");
    }
  });

  it("rejects log-probs above 0", () => {
    const e = catchError(() => penalties("k2", [-1, 1e-9], [-1, -1], fields));
    expect(e.field).toBe("items[3].logprobs");
    expect(e.index).toBe(1);
    expect(e.message).toContain("≤ 0");
  });

  it("uses default field names when none are given", () => {
    const e = catchError(() => penalties("abs", [0.5], [0]));
    expect(e.field).toBe("policy");
  });

  it("rejects an unknown estimator with a TypeError", () => {
    expect(() => penalties("kl2" as Estimator, [-1], [-1])).toThrow(TypeError);
  });
});
