import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestClient, type TestServer } from "../helpers/server.js";
import { adapterFile, KEY_LIST, KEYS } from "../ops/fixtures.js";

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const MODEL = "sharelora-default-bytes-v2";
const demo = (name: string) =>
  readFile(join(import.meta.dirname, "..", "..", "scripts", "demo", name), "utf8").then(JSON.parse);

/** /v1/score's rewards, the reference every other shape must match. */
async function reference(t: TestServer, user: string | undefined, items: object[]) {
  const res = await t.post("/v1/score", { ...(user ? { user } : {}), items });
  expect(res.status).toBe(200);
  return res.body.rewards as number[];
}

describe("the trainers' own wire formats", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ servedModelName: "OpenRLHF/Llama-3-8b-rm-700k, my-rm" });
    expect((await t.post("/v1/users/alice/fit", await demo("alice-fit.json"))).status).toBe(200);
    expect((await t.post("/v1/users/bob/fit", await demo("bob-fit.json"))).status).toBe(200);
  });
  afterAll(async () => {
    await t.close();
  });

  it("/get_reward: one sample per POST, exactly as OpenRLHF sends it", async () => {
    const res = await t.post("/get_reward", {
      query: ["hihello"],
      prompts: ["hi"],
      labels: ["alice"],
    });
    expect(res.status).toBe(200);
    const [want] = await reference(t, "alice", [{ prompt: "hi", response: "hello" }]);
    expect(res.body.rewards).toHaveLength(1);
    expect(res.body.rewards[0]).toBeCloseTo(want!, 9);
    expect(res.body.scores[0]).toBeCloseTo(sigmoid(want!), 12);
    expect(res.body.extra_logs).toEqual({
      personalized: [1],
      adapter_version: [1],
      prompt_matched: [1],
    });

    const global = await t.post("/get_reward", {
      query: ["hihello"],
      prompts: ["hi"],
      labels: [null],
    });
    const [globalWant] = await reference(t, undefined, [{ prompt: "hi", response: "hello" }]);
    expect(global.body.rewards[0]).toBeCloseTo(globalWant!, 9);
    expect(global.body.rewards[0]).not.toBeCloseTo(want!, 3);
    expect(global.body.extra_logs.personalized).toEqual([0]);
  });

  it("/get_reward: older clients' query alone, object labels, the header and ?user=", async () => {
    const text = "<s>[INST] hi [/INST] hello</s>";
    const [aliceText] = await reference(t, "alice", [{ text }]);
    const [globalText] = await reference(t, undefined, [{ text }]);
    const bare = await t.post("/get_reward", { query: [text] });
    expect(bare.status).toBe(200);
    expect(bare.body.rewards[0]).toBeCloseTo(globalText!, 9);
    expect(bare.body.extra_logs.prompt_matched).toEqual([0]);

    const labelled = await t.post("/get_reward", {
      query: [text, text],
      labels: [{ user: "alice", answer: "42" }, "bob"],
    });
    const [bobText] = await reference(t, "bob", [{ text }]);
    expect(labelled.body.rewards[0]).toBeCloseTo(aliceText!, 9);
    expect(labelled.body.rewards[1]).toBeCloseTo(bobText!, 9);

    const header = await t.post("/get_reward", { query: [text] }, { "x-sharelora-user": "alice" });
    expect(header.body.rewards[0]).toBeCloseTo(aliceText!, 9);
    const query = await t.post("/get_reward?user=alice", { query: [text], labels: [7] });
    expect(query.body.rewards[0]).toBeCloseTo(aliceText!, 9);
    expect(query.body.extra_logs.personalized).toEqual([1]);
  });

  it("/get_reward: a prompt that is not a prefix scores the query whole", async () => {
    const res = await t.post("/get_reward", {
      query: ["hello there"],
      prompts: ["hi"],
      labels: ["alice"],
    });
    const [want] = await reference(t, "alice", [{ text: "hello there" }]);
    expect(res.body.rewards[0]).toBeCloseTo(want!, 9);
    expect(res.body.extra_logs.prompt_matched).toEqual([0]);
  });

  it("/get_reward: an empty shard, as OpenRLHF sends to its other URLs, gets empty lists", async () => {
    const res = await t.post("/get_reward", { query: [], prompts: [], labels: [] });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      rewards: [],
      scores: [],
      extra_logs: { personalized: [], adapter_version: [], prompt_matched: [] },
    });
  });

  it("/get_reward: bad input names its field", async () => {
    const short = await t.post("/get_reward", { query: ["a", "b"], prompts: ["a"] });
    expect(short.status).toBe(400);
    expect(short.body.field).toBe("prompts");
    const badLabel = await t.post("/get_reward", { query: ["a"], labels: [{ user: "no spaces" }] });
    expect(badLabel.status).toBe(400);
    expect(badLabel.body.field).toBe("labels[0].user");
    const badHeader = await t.post("/get_reward", { query: ["a"] }, { "x-sharelora-user": "a b" });
    expect(badHeader.status).toBe(400);
    expect(badHeader.body.field).toBe("headers.x-sharelora-user");
    const unknown = await t.post("/get_reward", {
      query: ["a"],
      labels: ["nobody"],
      unknown_user: "error",
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe("USER_NOT_FOUND");
    expect(unknown.body.field).toBe("labels[0]");
  });

  it("/get_reward: hundreds of concurrent single-sample clients share backbone batches", async () => {
    const before = (await t.get("/metrics")).body as string;
    const batches = (text: string) =>
      Number(/^sharelora_batch_size_count (\d+)/m.exec(text)?.[1] ?? Number.NaN);
    const n = 200;
    const answers = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        t.post("/get_reward", { query: [`never seen ${i} ${Math.random()}`], labels: ["alice"] }),
      ),
    );
    for (const answer of answers) expect(answer.status).toBe(200);
    const after = (await t.get("/metrics")).body as string;
    const used = batches(after) - batches(before);
    expect(used).toBeGreaterThan(0);
    expect(used).toBeLessThan(n / 2);
  });

  it("/classify: vLLM's answer, for a user through the model name", async () => {
    const res = await t.post("/classify", {
      model: `${MODEL}:alice`,
      input: "hello",
      use_activation: false,
    });
    expect(res.status).toBe(200);
    const [want] = await reference(t, "alice", [{ text: "hello" }]);
    expect(res.body).toMatchObject({ object: "list", model: `${MODEL}:alice` });
    expect(res.body.id).toMatch(/^classify-[0-9a-f]{32}$/);
    expect(Number.isInteger(res.body.created)).toBe(true);
    expect(res.body.data).toHaveLength(1);
    expect(res.body.data[0]).toMatchObject({ index: 0, num_classes: 1 });
    expect(res.body.data.at(-1).probs.at(-1)).toBeCloseTo(want!, 9);
    expect(res.body.usage.prompt_tokens).toBeGreaterThan(0);
    expect(res.body.usage.total_tokens).toBe(res.body.usage.prompt_tokens);

    const activated = await t.post("/v1/classify", { model: `${MODEL}:alice`, input: ["hello"] });
    expect(activated.status).toBe(200);
    expect(activated.body.data[0].probs[0]).toBeCloseTo(sigmoid(want!), 12);
  });

  it("/classify: served aliases, lists, and a 404 for an unknown model", async () => {
    const [a, b] = await reference(t, "bob", [{ text: "one" }, { text: "two" }]);
    const alias = await t.post("/classify", {
      model: "OpenRLHF/Llama-3-8b-rm-700k:bob",
      input: ["one", "two"],
      use_activation: false,
      add_special_tokens: false,
      truncate_prompt_tokens: 512,
    });
    expect(alias.status).toBe(200);
    expect(alias.body.data.map((d: { index: number }) => d.index)).toEqual([0, 1]);
    expect(alias.body.data[0].probs[0]).toBeCloseTo(a!, 9);
    expect(alias.body.data[1].probs[0]).toBeCloseTo(b!, 9);
    const [globalOne] = await reference(t, undefined, [{ text: "one" }]);
    const plain = await t.post("/classify", {
      model: "my-rm",
      input: "one",
      use_activation: false,
    });
    expect(plain.body.data[0].probs[0]).toBeCloseTo(globalOne!, 9);

    const unknown = await t.post("/classify", { model: "nobody-knows-this", input: "hello" });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("content-type")).toMatch(/application\/problem\+json/);
    expect(unknown.body).toMatchObject({ code: "MODEL_NOT_FOUND", field: "model" });
    const prefixOnly = await t.post("/classify", { model: `${MODEL}x`, input: "hello" });
    expect(prefixOnly.status).toBe(404);
    const badUser = await t.post("/classify", { model: `${MODEL}:no spaces`, input: "hello" });
    expect(badUser.status).toBe(400);
    expect(badUser.body.field).toBe("model");
    const unknownUser = await t.post("/classify", {
      model: `${MODEL}:nobody`,
      input: "hello",
      unknown_user: "error",
    });
    expect(unknownUser.status).toBe(404);
    expect(unknownUser.body.field).toBe("model");
  });
});

describe("many users in one /v1/score request", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ maxUsersPerRequest: 3, maxUserScores: 6 });
    expect((await t.post("/v1/users/alice/fit", await demo("alice-fit.json"))).status).toBe(200);
    expect((await t.post("/v1/users/bob/fit", await demo("bob-fit.json"))).status).toBe(200);
  });
  afterAll(async () => {
    await t.close();
  });

  const items = [
    { prompt: "How do I fix DNS?", response: "- check resolv.conf\n- restart resolved" },
    { prompt: "How do I fix DNS?", response: "Check the resolver configuration, then restart." },
  ];

  it("gives each item its own user, as separate requests would", async () => {
    const alice = await reference(t, "alice", items);
    const bob = await reference(t, "bob", items);
    const res = await t.post("/v1/score", {
      user: "alice",
      items: [items[0], { ...items[1], user: "bob" }],
      pessimism: 0,
    });
    expect(res.status).toBe(200);
    expect(res.body.rewards[0]).toBeCloseTo(alice[0]!, 9);
    expect(res.body.rewards[1]).toBeCloseTo(bob[1]!, 9);
    expect(res.body.user).toBe("alice");
    expect(res.body.item_personalization).toEqual([
      expect.objectContaining({ user: "alice", personalized: true, adapter_version: 1 }),
      expect.objectContaining({ user: "bob", personalized: true, adapter_version: 1 }),
    ]);
    const plain = await t.post("/v1/score", { user: "alice", items });
    expect(plain.body.item_personalization).toBeUndefined();
  });

  it("scores every item for every listed user", async () => {
    const rows = [
      await reference(t, "alice", items),
      await reference(t, "bob", items),
      await reference(t, undefined, items),
    ];
    const res = await t.post("/v1/score", { users: ["alice", "bob", "carol"], items });
    expect(res.status).toBe(200);
    expect(res.body.users.map((u: { user: string }) => u.user)).toEqual(["alice", "bob", "carol"]);
    expect(res.body.users.map((u: { personalized: boolean }) => u.personalized)).toEqual([
      true,
      true,
      false,
    ]);
    for (let u = 0; u < 3; u++) {
      for (let i = 0; i < 2; i++) expect(res.body.rewards[u][i]).toBeCloseTo(rows[u]![i]!, 9);
    }
    expect(res.body.truncated).toEqual([false, false]);

    const pessimistic = await t.post("/v1/score", {
      users: ["alice", "carol"],
      items,
      pessimism: 1,
    });
    const single = await t.post("/v1/score", { user: "alice", items, pessimism: 1 });
    expect(pessimistic.body.rewards[0][1]).toBeCloseTo(single.body.rewards[1], 9);
    expect(pessimistic.body.uncertainty[0][1]).toBeCloseTo(single.body.uncertainty[1], 9);
  });

  it("refuses what it cannot mean, and past its limits", async () => {
    const both = await t.post("/v1/score", { user: "alice", users: ["bob"], items });
    expect(both.status).toBe(400);
    expect(both.body.field).toBe("users");
    const named = await t.post("/v1/score", {
      users: ["bob"],
      items: [items[0], { ...items[1], user: "alice" }],
    });
    expect(named.status).toBe(400);
    expect(named.body.field).toBe("items[1].user");
    const tooMany = await t.post("/v1/score", { users: ["a", "b", "c", "d"], items: [items[0]] });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.field).toBe("users");
    const tooLarge = await t.post("/v1/score", {
      users: ["a", "b", "c"],
      items: [...items, items[0]],
    });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body.field).toBe("users");
  });

  it("answers 404 for an unknown user when asked to, naming the field", async () => {
    const silent = await t.post("/v1/score", { user: "carol", items });
    expect(silent.status).toBe(200);
    expect(silent.body.personalized).toBe(false);
    const loud = await t.post("/v1/score", { user: "carol", items, unknown_user: "error" });
    expect(loud.status).toBe(404);
    expect(loud.body).toMatchObject({ code: "USER_NOT_FOUND", field: "user" });
    expect(loud.body.detail).toContain("carol");
    const item = await t.post("/v1/score", {
      items: [items[0], { ...items[1], user: "dave" }],
      unknown_user: "error",
    });
    expect(item.status).toBe(404);
    expect(item.body.field).toBe("items[1].user");
    const matrix = await t.post("/v1/score", {
      users: ["alice", "erin"],
      items,
      unknown_user: "error",
    });
    expect(matrix.status).toBe(404);
    expect(matrix.body.field).toBe("users[1]");
    for (const [path, body] of [
      ["/v1/compare", { pairs: [{ prompt: "p", a: "x", b: "y" }] }],
      ["/v1/rank", { prompt: "p", responses: ["x", "y"] }],
    ] as const) {
      const res = await t.post(path, { ...body, user: "carol", unknown_user: "error" });
      expect(res.status, path).toBe(404);
    }
  });
});

describe("--unknown-user error", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ unknownUser: "error" });
  });
  afterAll(async () => {
    await t.close();
  });

  it("makes every unknown user a 404 unless the request says global", async () => {
    const items = [{ prompt: "p", response: "r" }];
    expect((await t.post("/v1/score", { user: "carol", items })).status).toBe(404);
    expect((await t.post("/v1/score", { items })).status).toBe(200);
    const global = await t.post("/v1/score", { user: "carol", items, unknown_user: "global" });
    expect(global.status).toBe(200);
    expect(global.body.personalized).toBe(false);
    const stored = adapterFile(t.server.runtime, "carol");
    expect((await t.send("PUT", "/v1/users/carol/adapter", { body: stored })).status).toBe(200);
    expect((await t.post("/v1/score", { user: "carol", items })).status).toBe(200);
  });
});

describe("a key limited to a user-id prefix, on the multi-user and trainer routes", () => {
  let t: TestServer;
  let acme: TestClient;
  beforeAll(async () => {
    t = await startTestServer({ apiKeys: KEY_LIST });
    acme = t.as(KEYS.acme);
  });
  afterAll(async () => {
    await t.close();
  });

  it("acts for its own users only, wherever the user is named", async () => {
    const item = { prompt: "p", response: "r" };
    const foreign: [string, unknown, Record<string, string>?][] = [
      ["/v1/score", { items: [item, { ...item, user: "globex:a" }] }],
      ["/v1/score", { users: ["acme:a", "globex:a"], items: [item] }],
      ["/get_reward", { query: ["x"], labels: ["globex:a"] }],
      ["/get_reward", { query: ["x"], labels: [{ user: "globex:a" }] }],
      ["/get_reward", { query: ["x"] }, { "x-sharelora-user": "globex:a" }],
      ["/get_reward?user=globex:a", { query: ["x"] }],
      ["/classify", { model: `${MODEL}:globex:a`, input: "x" }],
    ];
    for (const [path, body, headers] of foreign) {
      const res = await acme.post(path, body, headers);
      expect(res.status, `${path} ${JSON.stringify(body)}`).toBe(403);
    }
    const own: [string, unknown][] = [
      ["/v1/score", { items: [item, { ...item, user: "acme:b" }] }],
      ["/v1/score", { users: ["acme:a", "acme:b"], items: [item] }],
      ["/get_reward", { query: ["x"], labels: ["acme:a"] }],
      ["/classify", { model: `${MODEL}:acme:a`, input: "x" }],
      ["/classify", { model: MODEL, input: "x" }],
    ];
    for (const [path, body] of own) {
      expect((await acme.post(path, body)).status, `${path} ${JSON.stringify(body)}`).toBe(200);
    }
    expect((await t.post("/get_reward", { query: ["x"] })).status).toBe(401);
    expect((await t.post("/classify", { input: "x" })).status).toBe(401);
  });
});
