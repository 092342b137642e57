import { describe, expect, it } from "vitest";
import { problemOf } from "../../src/http/problem-map.js";
import { Batcher } from "../../src/inference/batcher.js";

type Batch = readonly { ids: readonly number[] }[];

function recorder(delayMs = 1) {
  const batches: Batch[] = [];
  const run = async (batch: Batch) => {
    batches.push(batch);
    await new Promise((r) => setTimeout(r, delayMs));
    return batch.map((s) => s.ids.length);
  };
  return { batches, run };
}

const seq = (length: number, tag = 0) => ({ ids: Array.from({ length }, () => tag) });

describe("Batcher", () => {
  it("never exceeds max batch size or max padded tokens, and answers every entry", async () => {
    const { batches, run } = recorder();
    const batcher = new Batcher(run, {
      maxBatchTokens: 100,
      maxBatchSize: 4,
      maxWaitMs: 1,
      maxQueued: 1000,
    });
    const lengths = Array.from({ length: 60 }, (_, i) => 1 + ((i * 37) % 40));
    const results = await Promise.all(lengths.map((n) => batcher.submit(seq(n), "high")));
    expect(results).toEqual(lengths);
    for (const batch of batches) {
      expect(batch.length).toBeLessThanOrEqual(4);
      const max = Math.max(...batch.map((b) => b.ids.length));
      expect(max * batch.length).toBeLessThanOrEqual(100);
    }
    expect(batches.reduce((n, b) => n + b.length, 0)).toBe(60);
  });

  it("groups similar lengths to limit padding", async () => {
    const { batches, run } = recorder();
    const batcher = new Batcher(run, {
      maxBatchTokens: 10_000,
      maxBatchSize: 4,
      maxWaitMs: 5,
      maxQueued: 1000,
    });
    const lengths = [5, 200, 6, 201, 7, 202, 8, 203];
    await Promise.all(lengths.map((n) => batcher.submit(seq(n), "high")));
    const spreads = batches.map(
      (b) => Math.max(...b.map((x) => x.ids.length)) - Math.min(...b.map((x) => x.ids.length)),
    );
    expect(batches).toHaveLength(2);
    for (const spread of spreads) expect(spread).toBeLessThanOrEqual(3);
  });

  it("drops cancelled entries before they reach the backend", async () => {
    const { batches, run } = recorder();
    const batcher = new Batcher(run, {
      maxBatchTokens: 1000,
      maxBatchSize: 8,
      maxWaitMs: 5,
      maxQueued: 1000,
    });
    let cancelled = false;
    const live = batcher.submit(seq(3, 1), "high");
    const gone = batcher.submit(seq(3, 2), "high", () => cancelled);
    cancelled = true;
    await expect(gone).rejects.toMatchObject({ code: "CANCELLED" });
    await expect(live).resolves.toBe(3);
    expect(batches.flat().some((s) => s.ids[0] === 2)).toBe(false);
  });

  it("serves high priority before low priority", async () => {
    const { batches, run } = recorder(5);
    const batcher = new Batcher(run, {
      maxBatchTokens: 1000,
      maxBatchSize: 2,
      maxWaitMs: 0,
      maxQueued: 1000,
    });
    const first = batcher.submit(seq(2, 9), "high");
    await new Promise((r) => setTimeout(r, 1));
    const low = [batcher.submit(seq(2, 1), "low"), batcher.submit(seq(2, 1), "low")];
    const high = [batcher.submit(seq(2, 2), "high"), batcher.submit(seq(2, 2), "high")];
    await Promise.all([first, ...low, ...high]);
    expect(batches[1]!.map((b) => b.ids[0])).toEqual([2, 2]);
    expect(batches[2]!.map((b) => b.ids[0])).toEqual([1, 1]);
  });

  it("answers OVERLOADED when the queue is full", async () => {
    const { run } = recorder(20);
    const batcher = new Batcher(run, {
      maxBatchTokens: 1000,
      maxBatchSize: 1,
      maxWaitMs: 0,
      maxQueued: 3,
    });
    const running = batcher.submit(seq(1), "high");
    await new Promise((r) => setTimeout(r, 1));
    const queued = [1, 2, 3].map(() => batcher.submit(seq(1), "high"));
    expect(batcher.size).toBe(3);
    const refused = await batcher.submit(seq(1), "high").catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: "QUEUE_FULL", retryAfterSeconds: 1 });
    expect(batcher.queueFull()).toBe(true);
    expect(problemOf(refused)).toMatchObject({ code: "OVERLOADED", status: 429 });
    await expect(Promise.all([running, ...queued])).resolves.toHaveLength(4);
  });

  it("propagates backend failures to that batch only", async () => {
    let calls = 0;
    const batcher = new Batcher(
      async (batch: Batch) => {
        calls += 1;
        if (calls === 1) throw new Error("boom");
        return batch.map(() => 1);
      },
      { maxBatchTokens: 1000, maxBatchSize: 1, maxWaitMs: 0, maxQueued: 100 },
    );
    const a = batcher.submit(seq(1), "high");
    const b = batcher.submit(seq(1), "high");
    await expect(a).rejects.toThrow("boom");
    await expect(b).resolves.toBe(1);
  });

  it("rejects a sequence longer than maxBatchTokens with a TypeError", async () => {
    const batcher = new Batcher(async (b: Batch) => b.map(() => 0), {
      maxBatchTokens: 4,
      maxBatchSize: 2,
      maxWaitMs: 0,
      maxQueued: 10,
    });
    await expect(batcher.submit(seq(5), "high")).rejects.toBeInstanceOf(TypeError);
  });
});
