import { describe, expect, it } from "vitest";
import type { Baseline } from "../../loadtest/baseline.js";
import type { PhaseSummary } from "../../loadtest/summary.js";
import {
  allPassed,
  checkPhase,
  defaultP99Multiple,
  LATENCY_FLOOR_MS,
  p99BoundMs,
} from "../../loadtest/thresholds.js";

function phase(overrides: Partial<PhaseSummary> = {}): PhaseSummary {
  return {
    label: "score",
    connections: 8,
    durationS: 10,
    requests: 100,
    sent: 100,
    rps: 10,
    latencyMs: { mean: 50, p50: 40, p90: 80, p99: 120, max: 150 },
    errors: 0,
    timeouts: 0,
    statuses: { "200": 100 },
    ...overrides,
  };
}

const baseline: Baseline = { samples: 10, p50Ms: 20, maxMs: 30, statuses: { "200": 15 } };
const status = (checks: ReturnType<typeof checkPhase>, name: string) =>
  checks.find((c) => c.name === name)?.status;

describe("checkPhase", () => {
  it("passes a clean phase whose p99 is within the bound", () => {
    const checks = checkPhase(phase(), { allow429: false, p99Multiple: 16 }, baseline);
    expect(checks.every((c) => c.status === "pass")).toBe(true);
    expect(allPassed(checks)).toBe(true);
  });

  it("fails on 5xx, timeouts, connection errors and unexpected statuses", () => {
    const checks = checkPhase(
      phase({ statuses: { "200": 90, "503": 4, "400": 6 }, timeouts: 2, errors: 1 }),
      { allow429: false },
      baseline,
    );
    expect(status(checks, "zero 5xx")).toBe("fail");
    expect(status(checks, "no timeouts")).toBe("fail");
    expect(status(checks, "no connection errors")).toBe("fail");
    expect(status(checks, "no other non-2xx")).toBe("fail");
    expect(allPassed(checks)).toBe(false);
  });

  it("fails a 429 outside overload and requires shedding inside it", () => {
    const with429 = phase({ statuses: { "200": 50, "429": 50 } });
    expect(
      status(checkPhase(with429, { allow429: false }, baseline), "429 only under overload"),
    ).toBe("fail");
    const overload = checkPhase(with429, { allow429: true, expectShedding: true }, baseline);
    expect(allPassed(overload)).toBe(true);
    const noShedding = checkPhase(phase(), { allow429: true, expectShedding: true }, baseline);
    expect(status(noShedding, "sheds load with 429")).toBe("fail");
  });

  it("bounds p99 by a multiple of the single-request p50, floored", () => {
    expect(p99BoundMs(baseline, 4)).toBe(80);
    expect(p99BoundMs({ ...baseline, p50Ms: 1 }, 4)).toBe(4 * LATENCY_FLOOR_MS);
    const slow = phase({ latencyMs: { mean: 50, p50: 40, p90: 80, p99: 81, max: 90 } });
    expect(
      status(checkPhase(slow, { allow429: false, p99Multiple: 4 }, baseline), "p99 within bound"),
    ).toBe("fail");
    expect(
      status(checkPhase(slow, { allow429: false, p99Multiple: 4 }, undefined), "p99 within bound"),
    ).toBe("skip");
    expect(defaultP99Multiple(1)).toBe(4);
    expect(defaultP99Multiple(8)).toBe(16);
  });

  it("prefixes check names with the phase label when asked", () => {
    const checks = checkPhase(phase({ label: "c=4" }), { allow429: false }, baseline, true);
    expect(checks.every((c) => c.name.startsWith("c=4: "))).toBe(true);
  });
});
