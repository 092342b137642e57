import { request } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import type { FeatureEngine } from "../../src/inference/engine.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { adapterFile } from "./fixtures.js";

/** `count` distinct items, long enough that one backbone pass each takes a while. */
function items(count: number, salt: string) {
  return Array.from({ length: count }, (_, i) => ({
    prompt: `Question ${i} (${salt}): ${"please explain this in detail ".repeat(4)}`,
    response: `Answer ${i} (${salt}): ${"here is a long and careful answer ".repeat(8)}`,
  }));
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 2));
}

/** Resolves when the engine is asked for a text containing `marker`. */
function watchFor(engine: FeatureEngine, marker: string): Promise<void> {
  const original = engine.features.bind(engine);
  return new Promise((resolve) => {
    engine.features = (pairs, options) => {
      const pending = original(pairs, options);
      if (pairs.some((p) => p.response.includes(marker))) resolve();
      return pending;
    };
  });
}

function expectProblem(res: { status: number; body: any; headers: Headers }, status: number) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(res.body.status).toBe(status);
}

describe("limits and backpressure", () => {
  let t: TestServer | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it("413 for a body over the limit, JSON or adapter file", async () => {
    t = await startTestServer({ bodyLimitBytes: 2048 });
    const big = await t.post("/v1/score", { items: [{ prompt: "p", response: "x".repeat(4096) }] });
    expectProblem(big, 413);
    expect(big.body.code).toBe("PAYLOAD_TOO_LARGE");
    const file = new Uint8Array(4096);
    expectProblem(await t.send("PUT", "/v1/users/u/adapter", { body: file }), 413);
    const small = adapterFile(t.server.runtime, "u");
    expect(small.byteLength).toBeLessThan(2048);
    expect((await t.send("PUT", "/v1/users/u/adapter", { body: small })).status).toBe(200);
  });

  it("429 with Retry-After past maxConcurrentRequests; probes still answer", async () => {
    t = await startTestServer({ maxConcurrentRequests: 1, maxBatchSize: 1, featureCacheBytes: 0 });
    const engine = t.server.runtime.engine;
    let slowDone = false;
    const slow = t.post("/v1/score", { items: items(12, "slow") }).then((res) => {
      slowDone = true;
      return res;
    });
    await until(() => engine.queueSize > 0);
    const refused = await t.post("/v1/score", { items: [{ prompt: "p", response: "r" }] });
    expect(slowDone).toBe(false);
    expectProblem(refused, 429);
    expect(refused.body.code).toBe("OVERLOADED");
    expect(refused.headers.get("retry-after")).toBe("1");
    expect((await t.get("/health")).status).toBe(200);
    expect((await t.get("/metrics")).status).toBe(200);
    expect((await slow).status).toBe(200);
    expect((await t.post("/v1/score", { items: [{ prompt: "p", response: "r" }] })).status).toBe(
      200,
    );
  });

  it("429 with Retry-After when the backbone queue is full", async () => {
    t = await startTestServer({ maxQueued: 2, featureCacheBytes: 0 });
    const res = await t.post("/v1/score", { items: items(5, "queue") });
    expectProblem(res, 429);
    expect(res.body.code).toBe("OVERLOADED");
    expect(res.headers.get("retry-after")).toBe("1");
  });

  it("504 when a request outlives requestTimeoutMs", async () => {
    t = await startTestServer({ requestTimeoutMs: 50, maxBatchSize: 1, featureCacheBytes: 0 });
    const res = await t.post("/v1/score", { items: items(40, "timeout") });
    expectProblem(res, 504);
    expect(res.body.code).toBe("TIMEOUT");
  });

  it("a client that disconnects frees its place: its text is never computed", async () => {
    t = await startTestServer({ maxBatchSize: 1, featureCacheBytes: 0 });
    const engine = t.server.runtime.engine;
    const start = engine.backboneTexts;
    const ahead = items(12, "ahead");
    const first = t.post("/v1/score", { items: ahead });
    await until(() => engine.queueSize > 0);
    const marker = "text-of-the-client-that-leaves";
    const submitted = watchFor(engine, marker);
    const leaving = request(`${t.url}/v1/score`, {
      method: "POST",
      agent: false,
      headers: { "content-type": "application/json" },
    });
    leaving.on("error", () => {});
    leaving.end(JSON.stringify({ items: [{ prompt: "p", response: marker }] }));
    await submitted;
    // Its text waits behind the first request's: nothing of it can have run yet.
    expect(engine.queueSize).toBeGreaterThan(1);
    leaving.destroy();
    expect((await first).status).toBe(200);
    const after = await t.post("/v1/score", { items: [{ prompt: "p", response: "control" }] });
    expect(after.status).toBe(200);
    expect(engine.backboneTexts - start).toBe(ahead.length + 1);
    const again = await t.post("/v1/score", { items: [{ prompt: "p", response: marker }] });
    expect(again.status).toBe(200);
    expect(engine.backboneTexts - start).toBe(ahead.length + 2);
  });
});
