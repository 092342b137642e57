/**
 * The main path for a user with a reward model: import-model on the Llama-architecture fixture
 * (float32 export, the real Llama 3 tokenizer and chat template, its own score head) →
 * fit --keep-theta0 on preferences of users with planted tastes → the real server over a socket
 * → onboard a new user. Users without adapters get the reward model's own reward, equal to
 * PyTorch float64; the new user's held-out accuracy beats the reward model's.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runFit } from "../../src/commands/fit.js";
import { runImportModel } from "../../src/commands/import-model.js";
import { createTokenizer } from "../../src/inference/create-tokenizer.js";
import { createModelRenderer } from "../../src/inference/render.js";
import { sigmoid } from "../../src/math/logistic.js";
import { SeededRandom } from "../../src/math/random.js";
import { readHead } from "../../src/model/head-file.js";
import { loadModelDir } from "../../src/model/manifest.js";
import { decodeSafetensors } from "../../src/model/safetensors.js";
import { ItemTexts } from "../../src/service/item-texts.js";
import { FeatureExtractor } from "../../src/training/features/extractor.js";
import { LLAMA3_TOKENIZER_DIR, type LlamaFixture, llamaFixture } from "../helpers/llama-fixture.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

/** float32 export against PyTorch float64. */
const PARITY_TOLERANCE = 1e-4;
const TRAIN_USERS = 60;
const PAIRS_PER_USER = 30;
const ONBOARD_PAIRS = 24;
const HELD_OUT_PAIRS = 120;
/** Bradley–Terry logits of a user's own taste per unit of its spread over the texts. */
const TASTE_LOGITS = 1.5;

const WORDS = [
  "apple",
  "river",
  "quantum",
  "bread",
  "sunny",
  "code",
  "list",
  "Paris",
  "seven",
  "gentle",
  "error",
  "proof",
  "tiny",
  "ocean",
  "music",
  "table",
  "lemon",
  "storm",
  "logic",
  "forest",
  "cat",
  "engine",
  "violet",
  "history",
  "salt",
  "winter",
  "joke",
  "formula",
  "garden",
  "silver",
];
const PROMPTS = [
  "How do I bake bread?",
  "Explain recursion.",
  "What is the capital of France?",
  "Write a haiku about the sea.",
  "Why is the sky blue?",
  "Give me a packing list for a hike.",
];

interface Item {
  prompt: string;
  response: string;
}

/** Distinct (prompt, response) items: a response is a seeded run of words. */
function items(count: number, random: SeededRandom): Item[] {
  const seen = new Set<string>();
  const out: Item[] = [];
  while (out.length < count) {
    const length = 3 + Math.floor(random.nextUnit() * 10);
    const words = Array.from(
      { length },
      () => WORDS[Math.floor(random.nextUnit() * WORDS.length)]!,
    );
    const item = { prompt: PROMPTS[out.length % PROMPTS.length]!, response: `${words.join(" ")}.` };
    const key = JSON.stringify(item);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(item);
  }
  return out;
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

const std = (values: readonly number[]) => {
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  return Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length);
};

interface Comparison {
  prompt: string;
  chosen: string;
  rejected: string;
}

describe("import a reward model, fit B with its head kept, serve, onboard", () => {
  let fixture: LlamaFixture;
  let dir: string;
  let modelDir: string;
  let t: TestServer;
  let pool: Item[];
  let heldOutPool: Item[];
  /** utility(user taste w, item index) over pool ++ heldOutPool. */
  let utility: (w: readonly number[], index: number) => number;
  let random: SeededRandom;
  let scoreWeight: Float32Array;

  /** Comparisons of user w over items [from, to), oriented by a Bradley–Terry draw. */
  const comparisons = (w: readonly number[], n: number, from: number, to: number) => {
    const all = [...pool, ...heldOutPool];
    const out: Comparison[] = [];
    while (out.length < n) {
      const a = from + Math.floor(random.nextUnit() * (to - from));
      const b = from + Math.floor(random.nextUnit() * (to - from));
      if (a === b || all[a]!.prompt !== all[b]!.prompt) continue;
      const aWins = random.nextUnit() < sigmoid(utility(w, a) - utility(w, b));
      const [c, r] = aWins ? [a, b] : [b, a];
      out.push({ prompt: all[c]!.prompt, chosen: all[c]!.response, rejected: all[r]!.response });
    }
    return out;
  };

  beforeAll(async () => {
    fixture = await llamaFixture();
    dir = await mkdtemp(join(tmpdir(), "sharelora-reward-model-"));
    modelDir = join(dir, "rm");
    await runImportModel({
      onnx: fixture.model,
      tokenizer: LLAMA3_TOKENIZER_DIR,
      out: modelDir,
      scoreHead: fixture.scoreHead,
      pooling: "last",
      rank: 2,
    });
    scoreWeight = decodeSafetensors(await readFile(fixture.scoreHead)).tensors["score.weight"]!
      .data as Float32Array;

    // Planted tastes over the model's own features: two directions, one weight pair per user.
    random = new SeededRandom(2024);
    pool = items(160, random);
    heldOutPool = items(240, random).filter(
      (item) => !pool.some((p) => p.prompt === item.prompt && p.response === item.response),
    );
    const extractor = await FeatureExtractor.open({ modelDir });
    let phi: Float32Array[];
    try {
      const texts = new ItemTexts(extractor.renderer, extractor.model.manifest.encoding);
      phi = await extractor.extract(
        [...pool, ...heldOutPool].map((item, i) => texts.render(item, `items[${i}]`)),
      );
    } finally {
      await extractor.close();
    }
    const d = fixture.d;
    const directions = [0, 1].map(() => Float64Array.from({ length: d }, () => random.gaussian()));
    // The users' utility is the model class itself: the reward model's own reward plus a delta
    // along the planted directions (each in units of its spread over the texts, in logits).
    const reward = phi.map((f) => dot(scoreWeight, f));
    // Centred and scaled to unit spread over the texts; the second taste is made uncorrelated
    // with the first (Φ varies mostly along few directions, so random ones nearly coincide).
    const standardized = (values: readonly number[]) => {
      const mean = values.reduce((sum, v) => sum + v, 0) / values.length;
      const spread = std(values);
      return values.map((v) => (v - mean) / spread);
    };
    const first = standardized(phi.map((f) => dot(directions[0]!, f)));
    const second = standardized(phi.map((f) => dot(directions[1]!, f)));
    const overlap = dot(first, second) / first.length;
    const along = [first, standardized(second.map((v, i) => v - overlap * first[i]!))];
    utility = (w, index) =>
      reward[index]! + TASTE_LOGITS * (w[0]! * along[0]![index]! + w[1]! * along[1]![index]!);

    const train: string[] = [];
    for (let u = 0; u < TRAIN_USERS; u++) {
      const w = [random.gaussian(), random.gaussian()];
      for (const c of comparisons(w, PAIRS_PER_USER, 0, pool.length)) {
        train.push(JSON.stringify({ user: `u${u}`, ...c }));
      }
    }
    await writeFile(join(dir, "train.jsonl"), `${train.join("\n")}\n`);
    await runFit({
      model: modelDir,
      data: join(dir, "train.jsonl"),
      out: join(modelDir, "head"),
      adapters: join(dir, "train-adapters"),
      rank: 2,
      init: "global",
      share: "B",
      l2: 0.1,
      l2User: 0.1,
      seed: 0,
      cache: join(dir, "cache"),
      skipBad: false,
      keepTheta0: true,
      progress: false,
    });
    t = await startTestServer({ model: modelDir });
  }, 600_000);

  afterAll(async () => {
    await t?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("serves the imported head with Θ0 = the score head bit for bit and a trained B", async () => {
    const head = await readHead(join(modelDir, "head"));
    expect(Buffer.from(head.theta0.buffer, head.theta0.byteOffset, head.theta0.byteLength)).toEqual(
      Buffer.from(scoreWeight.buffer, scoreWeight.byteOffset, scoreWeight.byteLength),
    );
    expect(head.b0).toBe(0);
    const info = await t.get("/v1/info");
    expect(info.status).toBe(200);
    expect(info.body.model).toMatchObject({ d: fixture.d, m: 1, pooling: "last" });
    expect(info.body.head).toMatchObject({ hash: head.hash, k: 2, basis: "trained" });
  });

  it("gives users without an adapter the reward model's reward, equal to PyTorch float64", async () => {
    const sample = [...pool.slice(0, 6), ...heldOutPool.slice(0, 6)];
    const res = await t.post("/v1/score", { items: sample });
    expect(res.status).toBe(200);
    const model = await loadModelDir(modelDir);
    const tokenizer = await createTokenizer(model.manifest, model.dir);
    const renderer = createModelRenderer(model.manifest, tokenizer);
    const ids = sample.map(
      (item) =>
        tokenizer.encodeSequence(renderer.renderSequence(item), model.manifest.max_length).ids,
    );
    expect(
      ids.every((seq) => seq[0] === 128000 && seq.filter((id) => id === 128000).length === 1),
    ).toBe(true);
    const reference = await fixture.pytorchRewards(ids);
    const rewards = res.body.rewards as number[];
    const worst = Math.max(...rewards.map((r, i) => Math.abs(r - reference[i]!)));
    expect(worst).toBeLessThan(PARITY_TOLERANCE);
    // An unknown user is scored globally too, with the same rewards.
    const unknown = await t.post("/v1/score", { user: "nobody", items: sample });
    expect(unknown.body.personalized).toBe(false);
    expect(unknown.body.rewards).toEqual(rewards);
  });

  it("onboards a new user whose held-out accuracy beats the reward model's own", async () => {
    const w = [1.5, -1.2];
    const onboard = comparisons(w, ONBOARD_PAIRS, 0, pool.length);
    const fit = await t.post("/v1/users/newcomer/fit", { pairs: onboard });
    expect(fit.status).toBe(200);
    expect(fit.body.n_pairs).toBe(ONBOARD_PAIRS);
    const heldOut = comparisons(w, HELD_OUT_PAIRS, pool.length, pool.length + heldOutPool.length);
    const accuracy = async (user: string | undefined) => {
      const res = await t.post("/v1/compare", {
        ...(user ? { user } : {}),
        pairs: heldOut.map((p) => ({ prompt: p.prompt, a: p.chosen, b: p.rejected })),
      });
      expect(res.status).toBe(200);
      const results = res.body.results as { margin: number }[];
      return results.filter((r) => r.margin > 0).length / results.length;
    };
    const personal = await accuracy("newcomer");
    const global = await accuracy(undefined);
    expect(personal).toBeGreaterThan(global + 0.1);
  });

  it("compares and ranks the conversations /v1/score scores, for the new user and for nobody", async () => {
    const prompt = pool[0]!.prompt;
    const responses = pool
      .filter((item) => item.prompt === prompt)
      .slice(0, 4)
      .map((i) => i.response);
    for (const user of ["newcomer", undefined]) {
      const who = user ? { user } : {};
      const scored = await t.post("/v1/score", {
        ...who,
        items: responses.map((response) => ({ prompt, response })),
      });
      expect(scored.body.personalized).toBe(user !== undefined);
      const rewards = scored.body.rewards as number[];
      const compared = await t.post("/v1/compare", {
        ...who,
        pairs: [{ prompt, a: responses[0], b: responses[1] }],
      });
      expect(compared.body.results[0].margin).toBeCloseTo(rewards[0]! - rewards[1]!, 9);
      const ranked = await t.post("/v1/rank", { ...who, prompt, responses });
      expect(ranked.body.rewards).toEqual(rewards);
    }
  });
});
