import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTokenizer } from "../../src/inference/create-tokenizer.js";
import { seededHead, writeHead } from "../../src/model/head-file.js";
import { encodeModel } from "../../src/model/onnx/encode-model.js";
import { GraphBuilder } from "../../src/model/onnx/graph-builder.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const D = 12;
const VOCAB = 70;

function table(rows: number, cols: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: rows * cols }, () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return (s / 2 ** 31) * 2 - 1;
  });
}

const words = table(VOCAB, D, 1);
const types = table(2, D, 2);
const proj = table(D, D, 3);

/** A BERT-shaped toy: token + segment embeddings, one tanh layer, hidden states out. */
function tinyBackbone(): Uint8Array {
  const g = new GraphBuilder("tiny-bert");
  g.input("input_ids", "int64", ["batch", "seq"]);
  g.input("attention_mask", "int64", ["batch", "seq"]);
  g.input("token_type_ids", "int64", ["batch", "seq"]);
  const w = g.op("Gather", [g.floatInit("words", words, [VOCAB, D]), "input_ids"]);
  const t = g.op("Gather", [g.floatInit("types", types, [2, D]), "token_type_ids"]);
  const h = g.op("Tanh", [
    g.op("MatMul", [g.op("Add", [w, t]), g.floatInit("proj", proj, [D, D])]),
  ]);
  g.output(h, "last_hidden_state", "float32", ["batch", "seq", D]);
  return encodeModel(g);
}

/** float64 reference of the same model with masked mean pooling and the head. */
function referenceReward(
  ids: number[],
  typeIds: number[],
  head: ReturnType<typeof seededHead>,
): number {
  const pooled = new Float64Array(D);
  for (let t = 0; t < ids.length; t++) {
    const x = new Float64Array(D);
    for (let i = 0; i < D; i++) x[i] = words[ids[t]! * D + i]! + types[typeIds[t]! * D + i]!;
    for (let j = 0; j < D; j++) {
      let s = 0;
      for (let i = 0; i < D; i++) s += x[i]! * proj[i * D + j]!;
      pooled[j] += Math.tanh(s) / ids.length;
    }
  }
  let r = head.b0;
  for (let i = 0; i < D; i++) r += head.theta0[i]! * pooled[i]!;
  return r;
}

describe("a second model of another shape, through the tokenizer.json path", () => {
  let dir: string;
  let t: TestServer;
  const head = seededHead({ d: D, m: 1, k: 3, seed: 5, modelId: "tiny-bert" });
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "sharelora-tiny-"));
    await writeFile(join(dir, "model.onnx"), tinyBackbone());
    await copyFile(
      join(import.meta.dirname, "..", "fixtures", "wordpiece", "tokenizer.json"),
      join(dir, "tokenizer.json"),
    );
    await writeFile(
      join(dir, "manifest.json"),
      JSON.stringify({
        id: "tiny-bert",
        tokenizer: { type: "hf", file: "tokenizer.json" },
        max_length: 32,
        pooling: "mean",
        d: D,
        m: 1,
        backbone: { file: "model.onnx", output: "last_hidden_state" },
        head: "head",
      }),
    );
    await mkdir(join(dir, "head"));
    await writeHead(join(dir, "head"), head);
    t = await startTestServer({ model: dir });
  });
  afterAll(async () => {
    await t?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("serves it and reports its shape", async () => {
    const info = await t.get("/v1/info");
    expect(info.body.model).toMatchObject({
      id: "tiny-bert",
      d: D,
      m: 1,
      tokenizer: "hf",
      pooling: "mean",
    });
    expect(info.body.head.k).toBe(3);
  });

  it("matches a float64 reference of the model (token types, mean pooling, head) to 1e-5", async () => {
    const tokenizer = await createTokenizer(
      { tokenizer: { type: "hf", file: "tokenizer.json" } } as never,
      dir,
    );
    const items = [
      { prompt: "what is the capital of france?", response: "paris is the capital." },
      { prompt: "how do you play?", response: "the cat sat on the mat!" },
    ];
    const res = await t.post("/v1/score", { items });
    expect(res.status).toBe(200);
    items.forEach((item, i) => {
      const encoded = tokenizer.encodePair(item.prompt, item.response, 32);
      expect(encoded.typeIds).toBeDefined();
      const expected = referenceReward(encoded.ids, encoded.typeIds!, head);
      expect(Math.abs(res.body.rewards[i] - expected)).toBeLessThan(1e-5);
    });
  });
});
