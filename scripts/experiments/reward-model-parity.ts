/**
 * Served rewards of the Llama fixture against PyTorch float64.
 *
 *   node --import tsx scripts/experiments/reward-model-parity.ts URL RM_DIR
 *
 * URL serves RM_DIR (imported from the fixture with its score head, as in models/README.md). The
 * items are scored over HTTP in one request and one by one; the same items are rendered and
 * tokenized by this project's pipeline, and the fixture's PyTorch model scores those ids in
 * float64 (each sequence alone, no padding). Prints the largest |served − PyTorch|.
 */
import { createTokenizer } from "../../src/inference/create-tokenizer.js";
import { createModelRenderer, type RewardItem } from "../../src/inference/render.js";
import { loadModelDir } from "../../src/model/manifest.js";
import { llamaFixture } from "../../test/helpers/llama-fixture.js";

const ITEMS: RewardItem[] = [
  { prompt: "Explain DNS", response: "- resolver\n- root\n- TLD" },
  { prompt: "Explain DNS", response: "It maps names to IPs!" },
  { prompt: "Hi", response: "Hello world" },
  {
    messages: [
      { role: "system", content: "You are terse." },
      { role: "user", content: "What is 2 + 2?" },
      { role: "assistant", content: "4" },
    ],
  },
  {
    messages: [
      { role: "user", content: "Write a haiku about rain." },
      {
        role: "assistant",
        content: "Soft rain on the roof,\nthe gutters hum a low tune,\nsleep comes easily.",
      },
      { role: "user", content: "Now one about snow." },
      { role: "assistant", content: "White hush on the field; footprints fill before the dawn." },
    ],
  },
  {
    prompt: "Summarize the plot of Hamlet in one paragraph.",
    response: "A prince avenges his father, and nearly everyone dies. ".repeat(6),
  },
  { prompt: "Translate 'good morning' to French.", response: "Bonjour." },
  { prompt: "List three primes.", response: "2, 3, 5" },
];

const [url, modelDir] = process.argv.slice(2);
if (url === undefined || modelDir === undefined) {
  console.error("usage: reward-model-parity.ts URL RM_DIR");
  process.exit(2);
}

async function score(items: RewardItem[]): Promise<number[]> {
  const res = await fetch(`${url}/v1/score`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ items }),
  });
  const body = (await res.json()) as { rewards?: number[] };
  if (res.status !== 200 || body.rewards === undefined) {
    throw new Error(`POST /v1/score: ${res.status} ${JSON.stringify(body)}`);
  }
  return body.rewards;
}

const model = await loadModelDir(modelDir);
const tokenizer = await createTokenizer(model.manifest, model.dir);
const renderer = createModelRenderer(model.manifest, tokenizer);
const ids = ITEMS.map(
  (item) => tokenizer.encodeSequence(renderer.renderSequence(item), model.manifest.max_length).ids,
);
const reference = await (await llamaFixture()).pytorchRewards(ids);
const batched = await score(ITEMS);
const singles: number[] = [];
for (const item of ITEMS) singles.push(...(await score([item])));
const worst = (served: number[]) => Math.max(...served.map((r, i) => Math.abs(r - reference[i]!)));
console.log(
  JSON.stringify({
    items: ITEMS.length,
    tokens: ids.map((s) => s.length),
    max_abs_diff_batched: worst(batched),
    max_abs_diff_single: worst(singles),
    max_abs_reward: Math.max(...reference.map(Math.abs)),
  }),
);
