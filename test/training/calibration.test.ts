import { describe, expect, it } from "vitest";
import { SeededRandom } from "../../src/math/random.js";
import { BETA_95, CalibrationTally } from "../../src/training/eval/calibration.js";

describe("calibration figures of new users' posteriors", () => {
  it("ECE is near 0 for outcomes drawn from the predicted probabilities, and large when they are not", () => {
    const random = new SeededRandom(1);
    const calibrated = new CalibrationTally();
    const overconfident = new CalibrationTally();
    for (let i = 0; i < 20_000; i++) {
      const p = random.nextUnit();
      const won = random.nextUnit() < p;
      calibrated.add(p, won);
      overconfident.add(p > 0.5 ? 1 : 0, won);
    }
    expect(calibrated.ece!).toBeLessThan(0.02);
    expect(overconfident.ece!).toBeGreaterThan(0.2);
    expect(new CalibrationTally().ece).toBeNull();
  });

  it("the bound r − 1.645·σ holds for 95% of log-odds drawn from the posterior, in both orientations", () => {
    const random = new SeededRandom(2);
    const tally = new CalibrationTally();
    for (let i = 0; i < 40_000; i++) {
      const logOdds = 4 * random.nextUnit() - 2;
      const sigma = 0.2 + random.nextUnit();
      const truth = logOdds + sigma * random.gaussian();
      tally.add(0.5, true, { trueLogOdds: truth, logOdds, sigma, beta: BETA_95 });
    }
    expect(tally.coverage!).toBeCloseTo(0.95, 2);
    expect(tally.betaFor(0.95)!).toBeCloseTo(BETA_95, 1);
    expect(new CalibrationTally().coverage).toBeNull();
    expect(new CalibrationTally().betaFor(0.95)).toBeNull();
  });

  it("reports the β an overconfident posterior would have needed for 95%", () => {
    const random = new SeededRandom(3);
    const tally = new CalibrationTally();
    for (let i = 0; i < 40_000; i++) {
      const logOdds = 4 * random.nextUnit() - 2;
      const sigma = 0.2 + random.nextUnit();
      // The truth spreads twice as far as the posterior says.
      const truth = logOdds + 2 * sigma * random.gaussian();
      tally.add(0.5, true, { trueLogOdds: truth, logOdds, sigma, beta: BETA_95 });
    }
    expect(tally.coverage!).toBeLessThan(0.85);
    expect(tally.betaFor(0.95)!).toBeCloseTo(2 * BETA_95, 1);
    expect(() => tally.betaFor(1)).toThrow(RangeError);
  });
});
