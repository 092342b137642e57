import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { halfToNumber, toFloat32 } from "../../src/model/float-tensor.js";
import { decodeSafetensors, encodeSafetensors } from "../../src/model/safetensors.js";
import { readScoreHead, ScoreHeadError } from "../../src/model/score-head.js";
import { type LlamaFixture, llamaFixture } from "../helpers/llama-fixture.js";

/** float32 → bfloat16 bits, round to nearest even, as torch's .to(torch.bfloat16). */
function bf16Bits(value: number): number {
  const bits = new Uint32Array(new Float32Array([value]).buffer)[0]!;
  const rounding = 0x7fff + ((bits >>> 16) & 1);
  return ((bits + rounding) >>> 16) & 0xffff;
}

function bf16Value(value: number): number {
  return new Float32Array(new Uint32Array([bf16Bits(value) << 16]).buffer)[0]!;
}

describe("16-bit floats in safetensors", () => {
  it("decodes IEEE half precision exactly, subnormals and infinities included", () => {
    expect(halfToNumber(0x3c00)).toBe(1);
    expect(halfToNumber(0xc000)).toBe(-2);
    expect(halfToNumber(0x7bff)).toBe(65504);
    expect(halfToNumber(0x3555)).toBe(0.333251953125);
    expect(halfToNumber(0x0001)).toBe(2 ** -24);
    expect(halfToNumber(0x7c00)).toBe(Number.POSITIVE_INFINITY);
    expect(halfToNumber(0xfc00)).toBe(Number.NEGATIVE_INFINITY);
    expect(halfToNumber(0x7e00)).toBeNaN();
    expect(Object.is(halfToNumber(0x8000), -0)).toBe(true);
  });

  it("round-trips F16 and BF16 tensors through a file and widens them to float32", () => {
    const bytes = encodeSafetensors({
      h: { dtype: "F16", shape: [2], data: new Uint16Array([0x3c00, 0xc000]) },
      b: { dtype: "BF16", shape: [2], data: new Uint16Array([0x3f80, 0xc040]) },
    });
    const { tensors } = decodeSafetensors(bytes);
    expect(toFloat32(tensors["h"]!)).toEqual(new Float32Array([1, -2]));
    expect(toFloat32(tensors["b"]!)).toEqual(new Float32Array([1, -3]));
    expect(() => toFloat32({ dtype: "I32", shape: [1], data: new Int32Array([1]) }, "x")).toThrow(
      /x: expected a floating-point tensor/,
    );
  });
});

describe("readScoreHead", () => {
  let fixture: LlamaFixture;
  let dir: string;
  beforeAll(async () => {
    fixture = await llamaFixture();
    dir = await mkdtemp(join(tmpdir(), "score-head-"));
  }, 300_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads the fixture's float32 score.weight [1, d] as stored, with bias 0 when there is none", async () => {
    const head = await readScoreHead(fixture.scoreHead);
    const stored = decodeSafetensors(await readFile(fixture.scoreHead)).tensors["score.weight"]!;
    expect(stored.shape).toEqual([1, fixture.d]);
    expect(head.weight).toEqual(stored.data);
    expect(head.bias).toBe(0);
    expect(head.dtype).toBe("F32");
  });

  it("reads the bfloat16 head exactly: each weight is the float32 one rounded to bfloat16", async () => {
    const f32 = await readScoreHead(fixture.scoreHead);
    const bf16 = await readScoreHead(fixture.scoreHeadBf16);
    expect(bf16.dtype).toBe("BF16");
    expect(Array.from(bf16.weight)).toEqual(Array.from(f32.weight, bf16Value));
  });

  it("finds the head through model.safetensors.index.json, or in the shard named directly, with its bias", async () => {
    const weight = new Float32Array([0.5, -1.25, 2]);
    await writeFile(
      join(dir, "model-00001-of-00002.safetensors"),
      encodeSafetensors({
        "model.embed_tokens.weight": { dtype: "F32", shape: [2, 3], data: new Float32Array(6) },
      }),
    );
    await writeFile(
      join(dir, "model-00002-of-00002.safetensors"),
      encodeSafetensors({
        "score.weight": { dtype: "F32", shape: [1, 3], data: weight },
        "score.bias": { dtype: "BF16", shape: [1], data: new Uint16Array([bf16Bits(0.75)]) },
        "model.norm.weight": { dtype: "F16", shape: [3], data: new Uint16Array([0x3c00, 0, 0]) },
      }),
    );
    await writeFile(
      join(dir, "model.safetensors.index.json"),
      JSON.stringify({
        metadata: { total_size: 60 },
        weight_map: {
          "model.embed_tokens.weight": "model-00001-of-00002.safetensors",
          "model.norm.weight": "model-00002-of-00002.safetensors",
          "score.weight": "model-00002-of-00002.safetensors",
          "score.bias": "model-00002-of-00002.safetensors",
        },
      }),
    );
    const viaIndex = await readScoreHead(join(dir, "model.safetensors.index.json"));
    expect(viaIndex.weight).toEqual(weight);
    expect(viaIndex.bias).toBe(0.75);
    expect(viaIndex.file).toBe(join(dir, "model-00002-of-00002.safetensors"));
    const viaShard = await readScoreHead(join(dir, "model-00002-of-00002.safetensors"));
    expect(viaShard.weight).toEqual(weight);
    await expect(readScoreHead(join(dir, "model-00001-of-00002.safetensors"))).rejects.toThrow(
      /no tensor score\.weight \(name the score head's weight with --score-tensor\)/,
    );
    await expect(
      readScoreHead(join(dir, "model.safetensors.index.json"), "classifier.weight"),
    ).rejects.toThrow(/weight_map has no tensor classifier\.weight/);
  });

  it("refuses a multi-output head: one reward per sequence needs [1, d]", async () => {
    const path = join(dir, "two.safetensors");
    await writeFile(
      path,
      encodeSafetensors({
        "score.weight": { dtype: "F32", shape: [2, 3], data: new Float32Array(6) },
      }),
    );
    const error = await readScoreHead(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScoreHeadError);
    expect((error as Error).message).toMatch(/has shape \[2,3\]; expected \[1, d\]/);
  });
});
