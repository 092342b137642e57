import { createServer } from "node:http";
import { describe, expect, it } from "vitest";
import {
  assessMemory,
  leastSquaresSlope,
  metricsRssReader,
  procRssReader,
  RssSampler,
} from "../../loadtest/rss.js";
import { checkMemory } from "../../loadtest/thresholds.js";

const MIB = 1024 * 1024;
const bounds = {
  warmupFraction: 0.2,
  maxSlopeMiBPerMin: 4,
  maxGrowthMiB: 32,
  minSlopeSpanS: 120,
};

describe("leastSquaresSlope", () => {
  it("recovers the slope of noisy points against a float64 reference", () => {
    const points = [0, 1, 2, 3, 4, 5].map(
      (x) => [x, 3 * x + 7 + (x % 2 === 0 ? 0.5 : -0.5)] as const,
    );
    // Reference: the normal-equations form (nΣxy − ΣxΣy)/(nΣx² − (Σx)²) in float64; by hand,
    // the ±0.5 noise pulls the slope of 3 down by 1.5/17.5.
    const n = points.length;
    const sx = points.reduce((s, [x]) => s + x, 0);
    const sy = points.reduce((s, [, y]) => s + y, 0);
    const sxy = points.reduce((s, [x, y]) => s + x * y, 0);
    const sxx = points.reduce((s, [x]) => s + x * x, 0);
    const reference = (n * sxy - sx * sy) / (n * sxx - sx * sx);
    expect(reference).toBeCloseTo(3 - 1.5 / 17.5, 12);
    expect(leastSquaresSlope(points)).toBeCloseTo(reference, 12);
    expect(() => leastSquaresSlope([[1, 2]])).toThrow(TypeError);
    expect(() =>
      leastSquaresSlope([
        [1, 2],
        [1, 3],
      ]),
    ).toThrow(TypeError);
  });
});

describe("assessMemory", () => {
  it("passes a plateau after warm-up", () => {
    const samples = Array.from({ length: 31 }, (_, i) => i * 10).map((tS) => ({
      tS,
      bytes: (tS < 10 ? 100 : 140) * MIB,
    }));
    const memory = assessMemory(samples, bounds, "proc");
    expect(memory.afterWarmupMiB).toBe(140);
    expect(memory.growthMiB).toBe(0);
    expect(memory.slopeMiBPerMin).toBe(0);
    expect(checkMemory(memory).every((c) => c.status === "pass")).toBe(true);
  });

  it("fails a steady leak of 1 MiB every 10 s", () => {
    const samples = Array.from({ length: 61 }, (_, i) => ({ tS: i * 10, bytes: (200 + i) * MIB }));
    const memory = assessMemory(samples, bounds, "proc");
    expect(memory.slopeMiBPerMin).toBeCloseTo(6, 9);
    expect(memory.growthMiB).toBe(60 - 12);
    expect(checkMemory(memory).map((c) => c.status)).toEqual(["fail", "fail"]);
  });

  it("skips the slope with fewer than 3 samples in the second half", () => {
    const memory = assessMemory(
      [
        { tS: 0, bytes: MIB },
        { tS: 10, bytes: MIB },
      ],
      bounds,
      "proc",
    );
    expect(memory.slopeMiBPerMin).toBeNull();
    expect(checkMemory(memory)[0]!.status).toBe("skip");
  });

  it("skips the slope over a second half shorter than minSlopeSpanS, but still bounds growth", () => {
    // A 60 s run: one 13 MiB heap step in the second half reads as a steep slope.
    const mib = [217, 216, 198, 201, 195, 208, 208.5];
    const samples = mib.map((m, i) => ({ tS: i * 10, bytes: m * MIB }));
    const memory = assessMemory(samples, bounds, "proc");
    expect(memory.slopeSpanS).toBe(30);
    expect(memory.slopeMiBPerMin!).toBeGreaterThan(bounds.maxSlopeMiBPerMin);
    const [slope, growth] = checkMemory(memory);
    expect(slope!.status).toBe("skip");
    expect(growth!.status).toBe("pass");
    expect(memory.growthMiB).toBeCloseTo(208.5 - 198, 9);
  });
});

describe("RSS readers", () => {
  it("reads this process's VmRSS on Linux and samples at start and stop", async () => {
    const read = procRssReader(process.pid);
    const first = await read();
    if (process.platform !== "linux") {
      expect(first).toBeUndefined();
      return;
    }
    expect(first).toBeGreaterThan(MIB);
    const sampler = new RssSampler(read, 60_000);
    sampler.start();
    const samples = await sampler.stop();
    expect(samples).toHaveLength(2);
    expect(await procRssReader(2 ** 22 + 12345)()).toBeUndefined();
  });
});

describe("metricsRssReader", () => {
  it("reads process_resident_memory_bytes, prefixed or not, and sends the target's headers", async () => {
    let body = "";
    let authorization: string | undefined;
    const server = createServer((request, response) => {
      authorization = request.headers.authorization;
      response.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    const read = metricsRssReader({
      url: `http://127.0.0.1:${port}`,
      headers: { authorization: "Bearer k" },
    });
    try {
      body = "# TYPE x gauge\nsharelora_process_resident_memory_bytes 235118592\n";
      expect(await read()).toBe(235118592);
      expect(authorization).toBe("Bearer k");
      body = "process_resident_memory_bytes 1.5e+8\n";
      expect(await read()).toBe(1.5e8);
      body = "process_heap_bytes 5\n";
      expect(await read()).toBeUndefined();
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
