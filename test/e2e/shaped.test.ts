import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";

describe("POST /v1/rewards/shaped", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.close();
  });

  const item = {
    prompt: "Say hi",
    response: "Hello there, friend!",
    policy_logprobs: [-0.5, -1.2, -0.1, -2.0, -0.3],
    ref_logprobs: [-0.7, -1.0, -0.1, -2.5, -0.2],
  };

  it("adds the reward at the last token, subtracts β·penalty per token, and shaped sums to total", async () => {
    const score = await t.post("/v1/score", {
      items: [{ prompt: item.prompt, response: item.response }],
    });
    const res = await t.post("/v1/rewards/shaped", { items: [item], estimator: "kl", beta: 0.1 });
    expect(res.status).toBe(200);
    const out = res.body.items[0];
    expect(out.reward).toBe(score.body.rewards[0]);
    const l = item.policy_logprobs.map((lp, i) => lp - item.ref_logprobs[i]!);
    expect(out.penalties).toHaveLength(5);
    out.penalties.forEach((pen: number, i: number) => {
      expect(pen).toBeCloseTo(l[i]!, 12);
    });
    out.shaped.forEach((s: number, i: number) => {
      const expected = -0.1 * l[i]! + (i === 4 ? out.reward : 0);
      expect(s).toBeCloseTo(expected, 12);
    });
    expect(out.total).toBeCloseTo(
      out.shaped.reduce((a: number, b: number) => a + b, 0),
      12,
    );
  });

  it("validates the log-probs and β with problems naming the item", async () => {
    const shorter = { ...item, ref_logprobs: [-1, -1] };
    const res = await t.post("/v1/rewards/shaped", {
      items: [item, shorter],
      estimator: "js",
      beta: 0.1,
    });
    expect(res.status).toBe(400);
    expect(res.body.field).toMatch(/^items\[1\]\./);
    const positive = { ...item, policy_logprobs: [0.5, -1, -1, -1, -1] };
    const pos = await t.post("/v1/rewards/shaped", {
      items: [positive],
      estimator: "k3",
      beta: 0.1,
    });
    expect(pos.status).toBe(400);
    expect(pos.body.field).toMatch(/^items\[0\]\.policy_logprobs/);
    expect(
      (await t.post("/v1/rewards/shaped", { items: [item], estimator: "kl", beta: -1 })).status,
    ).toBe(400);
    expect(
      (
        await t.post("/v1/rewards/shaped", {
          items: [{ ...item, ref_logprobs: [] }],
          estimator: "kl",
          beta: 1,
        })
      ).status,
    ).toBe(400);
    expect(
      (await t.post("/v1/rewards/shaped", { items: [item], estimator: "nope", beta: 1 })).body
        .field,
    ).toBe("estimator");
  });
});
