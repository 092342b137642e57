import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { KEY_LIST, KEYS } from "../ops/fixtures.js";

const demo = (name: string) =>
  readFile(join(import.meta.dirname, "..", "..", "scripts", "demo", name), "utf8").then(JSON.parse);

const CANDIDATES = [
  {
    prompt: "How do I sort a list?",
    responses: [
      "## Sorting\n- Step 1: copy\n- Step 2: sort\n```js\nxs.sort();\n```",
      "Super easy! Just call sort and you're done!!",
      "Call the sort method with a comparison function.",
      "Sort it. Done!",
    ],
  },
  {
    prompt: "Explain DNS",
    responses: [
      "DNS maps names to addresses.",
      "- resolver\n- root server\n- TLD server",
      "It is the phone book of the internet!!!",
    ],
  },
  {
    prompt: "Say hi",
    responses: ["Hello there, friend!", "hi", "Greetings. How may I help you today?"],
  },
];
const PAIRS = 6 + 3 + 3;
const key = (q: { candidate: number; a: number; b: number }) =>
  `${q.candidate}:${Math.min(q.a, q.b)}:${Math.max(q.a, q.b)}`;

describe("POST /v1/users/{user}/queries over a real socket, default model", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ apiKeys: KEY_LIST, maxQueryTexts: 11, maxQueryPairs: 14 });
  });
  afterAll(async () => {
    await t.close();
  });

  it("chooses n distinct pairs under the population prior for a user without an adapter", async () => {
    const fit = t.as(KEYS.fit);
    const res = await fit.post("/v1/users/carol/queries", { candidates: CANDIDATES, n: 5 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      user: "carol",
      personalized: false,
      adapter_version: null,
      strategy: "information",
      available_pairs: PAIRS,
      excluded_pairs: 0,
    });
    const queries = res.body.queries as {
      candidate: number;
      a: number;
      b: number;
      information_gain: number;
      p_a: number;
    }[];
    expect(queries).toHaveLength(5);
    expect(new Set(queries.map(key)).size).toBe(5);
    // Greedy with updates: each gain is the best left, so the gains do not increase.
    for (let i = 1; i < queries.length; i++) {
      expect(queries[i]!.information_gain).toBeLessThanOrEqual(
        queries[i - 1]!.information_gain + 1e-12,
      );
    }
    // p_a is what /v1/compare serves the same user (the global reward without an adapter).
    const q = queries[0]!;
    const c = CANDIDATES[q.candidate]!;
    const compare = await t.as(KEYS.score).post("/v1/compare", {
      user: "carol",
      pairs: [{ prompt: c.prompt, a: c.responses[q.a], b: c.responses[q.b] }],
    });
    expect(q.p_a).toBeCloseTo(compare.body.results[0].p_a, 6);
  });

  it("uses the user's posterior once fitted, and never returns an excluded pair", async () => {
    const fit = t.as(KEYS.fit);
    expect((await fit.post("/v1/users/alice/fit", await demo("alice-fit.json"))).status).toBe(200);
    const exclude = [
      { candidate: 0, a: 1, b: 0 },
      { candidate: 1, a: 2, b: 1 },
      { candidate: 0, a: 0, b: 1 },
    ];
    for (const strategy of ["information", "uncertainty", "random"]) {
      const res = await fit.post("/v1/users/alice/queries", {
        candidates: CANDIDATES,
        n: PAIRS - 2,
        strategy,
        exclude,
        seed: 7,
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ personalized: true, adapter_version: 1, excluded_pairs: 2 });
      const keys = res.body.queries.map(key);
      expect(new Set(keys).size).toBe(PAIRS - 2);
      expect(keys).not.toContain("0:0:1");
      expect(keys).not.toContain("1:1:2");
    }
    const tooMany = await fit.post("/v1/users/alice/queries", {
      candidates: CANDIDATES,
      n: PAIRS - 1,
      exclude,
    });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.field).toBe("n");
  });

  it("answers problems with the full field path for bad indices and sizes", async () => {
    const fit = t.as(KEYS.fit);
    const cases: [object, number, string][] = [
      [{ n: 1, exclude: [{ candidate: 3, a: 0, b: 1 }] }, 400, "exclude[0].candidate"],
      [
        {
          n: 1,
          exclude: [
            { candidate: 0, a: 0, b: 1 },
            { candidate: 2, a: 0, b: 3 },
          ],
        },
        400,
        "exclude[1].b",
      ],
      [{ n: 1, exclude: [{ candidate: 1, a: 1, b: 1 }] }, 400, "exclude[0].b"],
      [{ n: 0 }, 400, "n"],
      [{ n: 1, strategy: "greedy" }, 400, "strategy"],
    ];
    for (const [extra, status, field] of cases) {
      const res = await fit.post("/v1/users/alice/queries", { candidates: CANDIDATES, ...extra });
      expect(res.status).toBe(status);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
      expect(res.body.field).toBe(field);
    }
    const single = await fit.post("/v1/users/alice/queries", {
      candidates: [{ prompt: "x", responses: ["only one"] }],
      n: 1,
    });
    expect(single.status).toBe(400);
    expect(single.body.field).toBe("candidates[0].responses");
    const large = await fit.post("/v1/users/alice/queries", {
      candidates: [...CANDIDATES, { prompt: "y", responses: ["a", "b"] }],
      n: 1,
    });
    expect(large.status).toBe(413);
    expect(large.body.field).toBe("candidates");
    // Six responses are within the text limit, but their 15 pairs are not.
    const pairs = await fit.post("/v1/users/alice/queries", {
      candidates: [{ prompt: "z", responses: ["r1", "r2", "r3", "r4", "r5", "r6"] }],
      n: 1,
    });
    expect(pairs.status).toBe(413);
    expect(pairs.body.field).toBe("candidates");
    expect(pairs.body.detail).toMatch(/15 pairs, more than the 14 allowed/);
  });

  it("needs the fit scope and keeps to the key's tenant prefix", async () => {
    const body = { candidates: CANDIDATES, n: 1 };
    expect((await t.post("/v1/users/alice/queries", body)).status).toBe(401);
    expect((await t.as(KEYS.score).post("/v1/users/alice/queries", body)).status).toBe(403);
    expect((await t.as(KEYS.acme).post("/v1/users/globex:alice/queries", body)).status).toBe(403);
    expect((await t.as(KEYS.acme).post("/v1/users/acme:alice/queries", body)).status).toBe(200);
  });
});
