import { describe, expect, it } from "vitest";
import { steadyRate } from "../../bench/load.js";
import { resolvePhases } from "../../bench/options.js";
import {
  type BenchResult,
  checkTargets,
  emptyFigures,
  parseBenchJson,
} from "../../bench/result.js";
import { formatTable } from "../../bench/table.js";

function fakeResult(): BenchResult {
  const figures = {
    ...emptyFigures(),
    raw_seq_per_s: 50,
    raw_batch: 64,
    server_seq_per_s: 45,
    ratio_unique: 0.9,
    ratio_shared_8_users: 4,
    rss_mib_100k_adapters: 300,
    rss_budget_mib: 280,
    ratio_openrlhf_single: 0.89,
    matrix_user_scores_per_s: 2_500_000,
    ratio_1000_users_e2e: 1.06,
  };
  return {
    machine: {
      cpu: "Test CPU",
      cores: 2,
      memoryMib: 1024,
      node: "20.0.0",
      platform: "linux-x64",
      loadavg: [1, 1, 1],
    },
    provider: "cpu",
    options: { quick: true, phases: ["raw", "unique"] },
    figures,
    targets: checkTargets(figures),
    details: { raw_rounds: [49, 50, 51] },
    notes: ["a note"],
    seconds: 12.5,
  };
}

describe("bench --json output", () => {
  it("parses back to the same result, with or without npm's banner lines", () => {
    const result = fakeResult();
    const json = JSON.stringify(result);
    expect(parseBenchJson(`${json}\n`)).toEqual(result);
    expect(
      parseBenchJson(
        `\n> sharelora@0.1.0 bench\n> node --import tsx bench/index.ts --json\n\n${json}\n`,
      ),
    ).toEqual(result);
  });

  it("rejects other output and results missing figures", () => {
    const json = JSON.stringify(fakeResult());
    expect(() => parseBenchJson(`progress\n${json}`)).toThrow(TypeError);
    expect(() => parseBenchJson(`${json}\n${json}`)).toThrow(TypeError);
    const broken = fakeResult() as unknown as { figures: Record<string, unknown> };
    delete broken.figures["ratio_unique"];
    expect(() => parseBenchJson(JSON.stringify(broken))).toThrow(/ratio_unique/);
  });

  it("checks targets: met, missed, or unknown when not measured", () => {
    const byFigure = new Map(fakeResult().targets.map((t) => [t.figure, t.met]));
    expect(byFigure.get("ratio_unique")).toBe(true);
    expect(byFigure.get("ratio_shared_8_users")).toBe(false);
    expect(byFigure.get("ratio_10k_users")).toBeNull();
    expect(byFigure.get("rss_mib_100k_adapters")).toBe(false);
    expect(byFigure.get("ratio_openrlhf_single")).toBe(false);
    expect(byFigure.get("matrix_user_scores_per_s")).toBe(true);
    expect(byFigure.get("ratio_1000_users_e2e")).toBe(true);
  });

  it("checks an upper bound as one: at the bound is met, above it is not", () => {
    const check = (ratio: number) =>
      checkTargets({ ...emptyFigures(), ratio_1000_users_e2e: ratio }).find(
        (t) => t.figure === "ratio_1000_users_e2e",
      );
    expect(check(1.1)).toMatchObject({ target: "≤ 1.1", value: 1.1, met: true });
    expect(check(1.11)?.met).toBe(false);
    expect(
      checkTargets({ ...emptyFigures(), matrix_user_scores_per_s: 999_999 }).find(
        (t) => t.figure === "matrix_user_scores_per_s",
      )?.met,
    ).toBe(false);
  });

  it("prints a markdown table with the machine and every figure", () => {
    const table = formatTable(fakeResult());
    expect(table).toContain("Test CPU, 2 cores");
    expect(table).toMatch(/\| ratio_unique \| 0\.9 \|.*\| ≥ 0\.85 \| yes \|/);
    expect(table).toMatch(/\| fit_ms_8 \| – \|/);
    expect(table).toMatch(/\| queries_ms_64x8 \| – \|/);
    expect(table).toMatch(/\| ratio_1000_users_e2e \| 1\.06 \|.*\| ≤ 1\.1 \| yes \|/);
    expect(table).toMatch(/\| matrix_user_scores_per_s \| 2500000 \| user-scores\/s \|/);
  });
});

describe("bench plumbing", () => {
  it("takes a batched server's rate between burst ends, not over a window that cuts batches", () => {
    // Bursts of 10 answers each second from 1000 ms; the window 0..5500 holds five, so the ends
    // of the first four are known; the sixth (after the window) is the drain.
    const completions = [1000, 2000, 3000, 4000, 5000, 6000].flatMap((t) =>
      Array.from({ length: 10 }, (_, i) => ({ t: t + i * 0.1, units: 1 })),
    );
    const rate = steadyRate(completions, 0, 5500);
    expect(rate.window).toBe("bursts");
    expect(rate.units).toBe(30);
    expect(rate.unitsPerS).toBeCloseTo(30 / 3, 6);
  });

  it("does not split a burst whose answers trickle out with short gaps", () => {
    const completions = [1000, 2000, 3000, 4000, 5000, 6000].flatMap((t) =>
      Array.from({ length: 10 }, (_, i) => ({ t: t + i * 25, units: 1 })),
    );
    const rate = steadyRate(completions, 0, 5500);
    expect(rate.window).toBe("bursts");
    expect(rate.units).toBe(30);
    expect(rate.seconds).toBeCloseTo(3, 6);
  });

  it("falls back to the whole run for evenly spread answers", () => {
    const completions = Array.from({ length: 100 }, (_, i) => ({ t: i * 10, units: 2 }));
    const rate = steadyRate(completions, 0, 1000);
    expect(rate.window).toBe("run");
    expect(rate.unitsPerS).toBeCloseTo(200, 6);
  });

  it("resolves --only and --quick to phases", () => {
    expect(resolvePhases(undefined, false)).toEqual([
      "raw",
      "unique",
      "shared",
      "openrlhf",
      "users10k",
      "matrix",
      "rss100k",
      "fit",
      "sequence",
      "queries",
    ]);
    expect(resolvePhases(undefined, true)).not.toContain("rss100k");
    expect(resolvePhases("sequence", true)).toEqual(["sequence"]);
    expect(resolvePhases("shared", true)).toEqual(["raw", "shared"]);
    expect(resolvePhases("rss100k,fit", true)).toEqual(["rss100k", "fit"]);
    expect(resolvePhases("matrix,openrlhf", true)).toEqual(["raw", "openrlhf", "matrix"]);
    expect(resolvePhases("matrix", false)).toEqual(["matrix"]);
    expect(() => resolvePhases("nope", false)).toThrow(TypeError);
  });
});
