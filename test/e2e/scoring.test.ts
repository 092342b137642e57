import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

describe("scoring over HTTP with the default model", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.close();
  });

  it("is ready and reports the provider", async () => {
    expect((await t.get("/health")).status).toBe(200);
    expect((await t.get("/ready")).status).toBe(200);
    const info = await t.get("/v1/info");
    expect(info.status).toBe(200);
    expect(info.body.provider).toBe("cpu");
    expect(info.body.model.d).toBe(341);
    expect(info.body.model.m).toBe(2);
    expect(info.body.head.hash).toMatch(/^[0-9a-f]+$/);
  });

  it("scores items with finite rewards and falls back to global for an unknown user", async () => {
    const items = [
      { prompt: "hi", response: "hello" },
      { prompt: "hi", response: "Hello there! How can I help you today?" },
    ];
    const global = await t.post("/v1/score", { items });
    expect(global.status).toBe(200);
    expect(global.body.personalized).toBe(false);
    expect(global.body.user).toBeNull();
    expect(global.body.rewards).toHaveLength(2);
    for (const r of global.body.rewards) expect(Number.isFinite(r)).toBe(true);
    expect(global.body.rewards[0]).not.toBe(global.body.rewards[1]);
    expect(global.body.truncated).toEqual([false, false]);

    const unknown = await t.post("/v1/score", { user: "nobody@example", items });
    expect(unknown.status).toBe(200);
    expect(unknown.body.user).toBe("nobody@example");
    expect(unknown.body.personalized).toBe(false);
    expect(unknown.body.adapter_version).toBeNull();
    expect(unknown.body.rewards).toEqual(global.body.rewards);
  });

  it("accepts the messages form", async () => {
    const res = await t.post("/v1/score", {
      items: [
        {
          messages: [
            { role: "user", content: "hi" },
            { role: "assistant", content: "hello" },
          ],
        },
      ],
    });
    expect(res.status).toBe(200);
    expect(Number.isFinite(res.body.rewards[0])).toBe(true);
    const bad = await t.post("/v1/score", {
      items: [{ messages: [{ role: "user", content: "hi" }] }],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe("items[0].messages[0].role");
    expect(bad.body.detail).toContain("items[0].messages[0].role: expected the last message");
  });

  it("compare agrees with score: p_a = σ(r(a) − r(b)) to 1e-6", async () => {
    const prompt = "Write a haiku about rain";
    const a = "Soft rain on the roof\nwhispers to the sleeping town\npuddles hold the sky";
    const b = "RAIN!!! 123";
    const scored = await t.post("/v1/score", {
      items: [
        { prompt, response: a },
        { prompt, response: b },
      ],
    });
    const compared = await t.post("/v1/compare", { pairs: [{ prompt, a, b }] });
    expect(compared.status).toBe(200);
    const margin = scored.body.rewards[0] - scored.body.rewards[1];
    expect(compared.body.results[0].margin).toBeCloseTo(margin, 6);
    expect(Math.abs(compared.body.results[0].p_a - sigmoid(margin))).toBeLessThan(1e-6);
  });

  it("rank orders by reward and gives softmax probabilities", async () => {
    const responses = [
      "short",
      "A longer, more careful answer.",
      "- a\n- list\n- answer",
      "```code```",
    ];
    const res = await t.post("/v1/rank", { prompt: "Explain", responses });
    expect(res.status).toBe(200);
    const { order, rewards, probabilities } = res.body;
    expect([...order].sort()).toEqual([0, 1, 2, 3]);
    for (let i = 1; i < order.length; i++)
      expect(rewards[order[i - 1]]).toBeGreaterThanOrEqual(rewards[order[i]]);
    const max = Math.max(...rewards);
    const z = rewards.reduce((s: number, r: number) => s + Math.exp(r - max), 0);
    for (const [i, r] of (rewards as number[]).entries()) {
      expect(probabilities[i]).toBeCloseTo(Math.exp(r - max) / z, 12);
    }
    expect(probabilities.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it("truncates long texts with a flag, or rejects them when truncate is false", async () => {
    const long = "x".repeat(3000);
    const res = await t.post("/v1/score", { items: [{ prompt: "p", response: long }] });
    expect(res.status).toBe(200);
    expect(res.body.truncated).toEqual([true]);
    const strict = await t.post("/v1/score", {
      items: [{ prompt: "p", response: long }],
      truncate: false,
    });
    expect(strict.status).toBe(400);
    expect(strict.body.code).toBe("TEXT_TOO_LONG");
    expect(strict.body.field).toBe("items[0]");
  });
});

describe("batching gives the same numbers as one text at a time", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ featureCacheBytes: 0 });
  });
  afterAll(async () => {
    await t.close();
  });

  it("keeps answering while the backbone runs a batch (inference is off the event loop)", async () => {
    const items = Array.from({ length: 48 }, (_, i) => ({
      prompt: `slow ${i}`,
      response: "z".repeat(400 + i),
    }));
    let scoreDone = 0;
    const score = t.post("/v1/score", { items }).then((res) => {
      scoreDone = performance.now();
      return res;
    });
    await new Promise((r) => setTimeout(r, 20));
    const health = await t.get("/health");
    const healthDone = performance.now();
    expect(health.status).toBe(200);
    expect((await score).status).toBe(200);
    expect(healthDone).toBeLessThan(scoreDone);
  });

  it("padding invariance: a short text scores the same alone and batched with a long one", async () => {
    const short = { prompt: "hi", response: "ok" };
    const long = {
      prompt: "a much longer prompt ".repeat(10),
      response: "and a long response ".repeat(15),
    };
    const alone = await t.post("/v1/score", { items: [short] });
    const together = await t.post("/v1/score", { items: [long, short] });
    expect(Math.abs(alone.body.rewards[0] - together.body.rewards[1])).toBeLessThan(1e-5);
  });

  it("100 concurrent requests equal sequential calls to 1e-5", async () => {
    const requests = Array.from({ length: 100 }, (_, i) => ({
      user: `user-${i % 50}`,
      items: [{ prompt: `question ${i % 7}`, response: `answer number ${i} ${"!".repeat(i % 5)}` }],
    }));
    const sequential: number[] = [];
    for (const body of requests) sequential.push((await t.post("/v1/score", body)).body.rewards[0]);
    const concurrent = await Promise.all(requests.map((body) => t.post("/v1/score", body)));
    concurrent.forEach((res, i) => {
      expect(res.status).toBe(200);
      expect(Math.abs(res.body.rewards[0] - sequential[i]!)).toBeLessThan(1e-5);
    });
  });
});
