import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";

const demo = (name: string) =>
  readFile(join(import.meta.dirname, "..", "..", "scripts", "demo", name), "utf8").then(JSON.parse);

/** The README's compare and rank examples: texts outside both demo users' fit files. */
const DNS_PAIR = {
  prompt: "Explain DNS",
  a: "- resolver\n- root\n- TLD",
  b: "It maps names to IPs!",
};
const DNS_RANK = {
  prompt: "Explain DNS",
  responses: [
    "DNS maps names to addresses.",
    "- resolver\n- root server\n- TLD server",
    "It is the phone book of the internet!!!",
  ],
};

describe("the README's demo users, as the README describes them", () => {
  let t: TestServer;
  const fits: Record<string, { l2: number }> = {};
  beforeAll(async () => {
    t = await startTestServer();
    for (const user of ["alice", "bob"]) {
      const res = await t.post(`/v1/users/${user}/fit`, await demo(`${user}-fit.json`));
      expect(res.status).toBe(200);
      fits[user] = res.body;
    }
  });
  afterAll(async () => {
    await t.close();
  });

  it("keeps the population prior near its own strength on 8 separable pairs", () => {
    for (const user of ["alice", "bob"]) {
      expect(fits[user]!.l2).toBeGreaterThanOrEqual(0.3);
      expect(fits[user]!.l2).toBeLessThanOrEqual(3);
    }
  });

  it("ranks the demo's three responses as the README's table says", async () => {
    const orders: Record<string, number[]> = {};
    for (const who of ["global", "alice", "bob"]) {
      const res = await t.post("/v1/rank", await demo(`rank-${who}.json`));
      expect(res.status).toBe(200);
      orders[who] = res.body.order;
    }
    expect(orders).toEqual({ global: [0, 1, 2], alice: [0, 1, 2], bob: [1, 0, 2] });
  });

  it("carries alice's taste for structure to the README's DNS examples; bob's does not carry", async () => {
    const compare = async (user?: string) => {
      const res = await t.post("/v1/compare", { ...(user ? { user } : {}), pairs: [DNS_PAIR] });
      expect(res.status).toBe(200);
      return res.body.results[0].p_a as number;
    };
    const rank = async (user?: string) => {
      const res = await t.post("/v1/rank", { ...(user ? { user } : {}), ...DNS_RANK });
      expect(res.status).toBe(200);
      return res.body.order as number[];
    };
    expect(await compare("alice")).toBeGreaterThan(0.6);
    expect((await rank("alice"))[0]).toBe(1);
    // bob's 8 pairs contrast long structured answers with short exclamatory ones; a 3-line list
    // is short, and he prefers it like the global reward does.
    expect(await compare("bob")).toBeGreaterThan(0.9);
    expect(await rank("bob")).toEqual([1, 2, 0]);
    expect(await rank()).toEqual([1, 2, 0]);
  });

  it("gives alice a posterior σ on new texts of the prior's order, not a collapsed prior's", async () => {
    const res = await t.post("/v1/compare", { user: "alice", pairs: [DNS_PAIR], pessimism: 1 });
    expect(res.status).toBe(200);
    const { p_a, p_a_lcb, margin } = res.body.results[0];
    expect(p_a).toBeGreaterThan(0.5);
    // σ_Δ = margin − logit(p_a_lcb) at β = 1.
    const sigma = margin - Math.log(p_a_lcb / (1 - p_a_lcb));
    expect(sigma).toBeLessThan(4);
  });
});
