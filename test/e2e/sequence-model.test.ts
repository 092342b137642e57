import { rm } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTokenizer } from "../../src/inference/create-tokenizer.js";
import { createModelRenderer, type RewardItem } from "../../src/inference/render.js";
import type { Tokenizer } from "../../src/inference/tokenizer.js";
import { readManifest } from "../../src/model/manifest.js";
import {
  type LlamaFixture,
  llamaFixture,
  writeSequenceModelDir,
} from "../helpers/llama-fixture.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

/** float32 export against PyTorch float64. */
const TOLERANCE = 1e-4;

type Item = RewardItem | { text: string };

const ITEMS: Item[] = [
  {
    messages: [
      { role: "user", content: "What is the capital of France?" },
      { role: "assistant", content: "Paris." },
    ],
  },
  {
    messages: [
      { role: "system", content: "You are terse." },
      {
        role: "user",
        content: "Name a prime number larger than ten, and explain briefly why it is prime.",
      },
      { role: "assistant", content: "Eleven: its only divisors are one and itself." },
    ],
  },
  { prompt: "Say hello.", response: "Hello world" },
  { text: "<|begin_of_text|>Hello world" },
  { text: "plain text, no special tokens at all" },
];

describe("a decoder reward model served as a sequence model", () => {
  let fixture: LlamaFixture;
  let dir: string;
  let t: TestServer;
  let tokenizer: Tokenizer;
  let render: (item: Item) => string;

  beforeAll(async () => {
    fixture = await llamaFixture();
    ({ dir } = await writeSequenceModelDir(fixture, { maxLength: 24 }));
    const manifest = await readManifest(dir);
    tokenizer = await createTokenizer(manifest, dir);
    const renderer = createModelRenderer(manifest, tokenizer);
    render = (item) => ("text" in item ? item.text : renderer.renderSequence(item));
    t = await startTestServer({ model: dir });
  }, 300_000);

  afterAll(async () => {
    await t?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Token ids through our tokenizer and template, then PyTorch float64 on those ids. */
  async function expected(items: readonly Item[]) {
    const encoded = items.map((item) => tokenizer.encodeSequence(render(item), 24));
    const rewards = await fixture.pytorchRewards(encoded.map((e) => e.ids));
    return { rewards, truncated: encoded.map((e) => e.truncated), ids: encoded.map((e) => e.ids) };
  }

  it("serves the reward model's own reward (W = 0) for messages, (prompt, response) and text items", async () => {
    const info = await t.get("/v1/info");
    expect(info.body.model).toMatchObject({ encoding: "sequence", pooling: "last", d: fixture.d });
    const want = await expected(ITEMS);
    expect(want.ids[0]![0]).toBe(128000);
    expect(want.ids[3]).toEqual([128000, 9906, 1917]);
    const res = await t.post("/v1/score", { items: ITEMS });
    expect(res.status).toBe(200);
    expect(res.body.personalized).toBe(false);
    expect(res.body.truncated).toEqual(want.truncated);
    // The long conversation is cut from the left to 24 tokens, keeping the reward's last token.
    expect(want.truncated).toEqual([false, true, false, false, false]);
    res.body.rewards.forEach((reward: number, i: number) => {
      expect(Math.abs(reward - want.rewards[i]!), `item ${i}`).toBeLessThan(TOLERANCE);
    });
    // One at a time, no batch padding: the same rewards.
    for (const [i, item] of ITEMS.entries()) {
      const single = await t.post("/v1/score", { items: [item] });
      expect(Math.abs(single.body.rewards[0] - want.rewards[i]!)).toBeLessThan(TOLERANCE);
    }
  });

  it("renders /v1/rank and /v1/compare responses as [user: prompt, assistant: response]", async () => {
    const prompt = "Say hello.";
    const responses = ["Hello world", "Hi", "Good morning to you"];
    const want = await expected(responses.map((response) => ({ prompt, response })));
    const ranked = await t.post("/v1/rank", { prompt, responses });
    expect(ranked.status).toBe(200);
    ranked.body.rewards.forEach((reward: number, i: number) => {
      expect(Math.abs(reward - want.rewards[i]!)).toBeLessThan(TOLERANCE);
    });
    const compared = await t.post("/v1/compare", {
      pairs: [{ prompt, a: responses[0], b: responses[1] }],
    });
    expect(compared.status).toBe(200);
    expect(
      Math.abs(compared.body.results[0].margin - (want.rewards[0]! - want.rewards[1]!)),
    ).toBeLessThan(2 * TOLERANCE);
  });

  it("chooses queries on the conversations the model scores: p_a is /v1/compare's", async () => {
    const candidates = [{ prompt: "Say hello.", responses: ["Hello world", "Hi", "Good day"] }];
    const res = await t.post("/v1/users/newbie/queries", { candidates, n: 3 });
    expect(res.status).toBe(200);
    for (const q of res.body.queries as { a: number; b: number; p_a: number }[]) {
      const { prompt, responses } = candidates[0]!;
      const compared = await t.post("/v1/compare", {
        user: "newbie",
        pairs: [{ prompt, a: responses[q.a], b: responses[q.b] }],
      });
      expect(compared.status).toBe(200);
      expect(q.p_a).toBeCloseTo(compared.body.results[0].p_a, 6);
    }
  });

  it("refuses a truncated text when truncate is false, naming the item", async () => {
    const res = await t.post("/v1/score", { items: ITEMS, truncate: false });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain("items[1]");
  });

  it("scores an OpenRLHF /get_reward query whole, even when its prompt is a prefix", async () => {
    const query = render(ITEMS[0]!);
    const prompt = query.slice(0, query.indexOf("Paris."));
    const want = await expected([{ text: query }]);
    const res = await t.post("/get_reward", { query: [query], prompts: [prompt] });
    expect(res.status).toBe(200);
    expect(res.body.extra_logs.prompt_matched).toEqual([1]);
    expect(Math.abs(res.body.rewards[0] - want.rewards[0]!)).toBeLessThan(TOLERANCE);
  });
});

describe("the same model served from its other exports", () => {
  const cases = [
    { name: "external data, loaded by path", options: { variant: "external" }, tolerance: 1e-4 },
    { name: "left padding", options: { paddingSide: "left" }, tolerance: 1e-4 },
    { name: "float16", options: { variant: "float16" }, tolerance: 5e-3 },
    { name: "bfloat16 output", options: { variant: "bfloat16" }, tolerance: 2e-2 },
  ] as const;
  for (const { name, options, tolerance } of cases) {
    it(`${name}: PyTorch float64's rewards within ${tolerance}`, async () => {
      const fixture = await llamaFixture();
      const { dir } = await writeSequenceModelDir(fixture, options);
      const server = await startTestServer({ model: dir });
      try {
        const manifest = await readManifest(dir);
        const tokenizer = await createTokenizer(manifest, dir);
        const renderer = createModelRenderer(manifest, tokenizer);
        const ids = ITEMS.map(
          (item) =>
            tokenizer.encodeSequence(
              "text" in item ? item.text : renderer.renderSequence(item),
              256,
            ).ids,
        );
        const want = await fixture.pytorchRewards(ids);
        const res = await server.post("/v1/score", { items: ITEMS });
        expect(res.status).toBe(200);
        res.body.rewards.forEach((reward: number, i: number) => {
          expect(Math.abs(reward - want[i]!), `item ${i}`).toBeLessThan(tolerance);
        });
      } finally {
        await server.close();
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});
