import { beforeAll, describe, expect, it } from "vitest";
import type { TokenSeq } from "../../src/inference/backend.js";
import { OnnxBackend, type OnnxBackendOptions } from "../../src/inference/onnx-backend.js";
import type { Head } from "../../src/model/head-file.js";
import { encodeModel } from "../../src/model/onnx/encode-model.js";
import { GraphBuilder } from "../../src/model/onnx/graph-builder.js";
import { type LlamaFixture, llamaFixture, scoreHeadAsTheta0 } from "../helpers/llama-fixture.js";

/** float32 export against PyTorch float64. */
const FLOAT32_TOLERANCE = 1e-4;
/** float16 export: half-precision weights and activations (rewards are of order 1). */
const FLOAT16_TOLERANCE = 5e-3;
/** float32 graph whose output is rounded to bfloat16 (8 significant bits) before the head. */
const BFLOAT16_TOLERANCE = 2e-2;

/** Token sequences of mixed lengths over the whole vocabulary, Llama 3 special ids included. */
function sequences(): number[][] {
  let state = 12345;
  const next = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state;
  };
  const lengths = [1, 2, 5, 9, 17, 3, 30, 12];
  return lengths.map((n) => [128000, ...Array.from({ length: n }, () => next() % 128256)]);
}

describe("a Llama reward model served through the ONNX backend, against PyTorch float64", () => {
  let fixture: LlamaFixture;
  let head: Head;
  let texts: number[][];
  let reference: number[];

  beforeAll(async () => {
    fixture = await llamaFixture();
    head = await scoreHeadAsTheta0(fixture);
    texts = sequences();
    reference = await fixture.pytorchRewards(texts);
  }, 300_000);

  async function rewards(
    options: Partial<OnnxBackendOptions>,
    batches: number[][][],
  ): Promise<number[]> {
    const backend = await OnnxBackend.create({
      backbone: fixture.model,
      backboneOutput: "last_hidden_state",
      pooling: "last",
      head,
      padId: 0,
      device: "cpu",
      ...options,
    });
    try {
      const out: number[] = [];
      for (const batch of batches) {
        const seqs: TokenSeq[] = batch.map((ids) => ({ ids }));
        for (const f of await backend.embed(seqs)) out.push(f.base);
      }
      return out;
    } finally {
      await backend.dispose();
    }
  }

  function maxError(got: number[]): number {
    expect(got).toHaveLength(reference.length);
    return Math.max(...got.map((r, i) => Math.abs(r - reference[i]!)));
  }

  it("float32: equal to 1e-4 one at a time, in one mixed-length batch, padded right or left", async () => {
    const single = await rewards(
      {},
      texts.map((t) => [t]),
    );
    const batched = await rewards({}, [texts]);
    const left = await rewards({ paddingSide: "left" }, [texts]);
    const padWithEos = await rewards({ padId: 128009 }, [texts]);
    for (const got of [single, batched, left, padWithEos]) {
      expect(maxError(got)).toBeLessThan(FLOAT32_TOLERANCE);
    }
    // The rewards differ from text to text, so the comparison is not vacuous.
    expect(new Set(reference.map((r) => r.toFixed(3))).size).toBe(reference.length);
  });

  it("float16: the head casts once and stays within 5e-3, batched as singly", async () => {
    const batched = await rewards({ backbone: fixture.modelFp16 }, [texts]);
    const single = await rewards(
      { backbone: fixture.modelFp16 },
      texts.map((t) => [t]),
    );
    expect(maxError(batched)).toBeLessThan(FLOAT16_TOLERANCE);
    expect(maxError(single)).toBeLessThan(FLOAT16_TOLERANCE);
  });

  it("loads a graph with external data by path and gives the same rewards", async () => {
    const got = await rewards({ backbone: fixture.externalModel }, [texts]);
    expect(maxError(got)).toBeLessThan(FLOAT32_TOLERANCE);
  });

  it("bfloat16 output: a Cast to float32 is appended to the graph, inline or with external data", async () => {
    for (const backbone of [fixture.modelBf16Output, fixture.externalBf16Model]) {
      const got = await rewards({ backbone }, [texts]);
      const error = maxError(got);
      expect(error).toBeLessThan(BFLOAT16_TOLERANCE);
      // Rounded, not merely recomputed in float32: the bfloat16 step is really there.
      expect(error).toBeGreaterThan(FLOAT32_TOLERANCE);
    }
  });

  it("refuses at load a manifest output_dtype that contradicts the graph", async () => {
    await expect(rewards({ outputDtype: "float16" }, [[texts[0]!]])).rejects.toThrow(
      /output_dtype is float16, but the graph's output "last_hidden_state" is float32/,
    );
  });

  it("refuses at load a backbone input it cannot fill, naming it", async () => {
    const g = new GraphBuilder("needs_cache");
    const ids = g.input("input_ids", "int64", ["batch", "seq"]);
    g.input("attention_mask", "int64", ["batch", "seq"]);
    g.input("past_key_values.0.key", "float32", ["batch", 2, "past", 8]);
    const hidden = g.op("Cast", [g.op("Unsqueeze", [ids, g.int64Init("axes", [2])])], {
      to: { kind: "int", value: 1 },
    });
    g.output(hidden, "last_hidden_state", "float32", ["batch", "seq", 1]);
    const bytes = encodeModel(g, { docString: "a decoder that wants a KV cache" });
    const one: Head = { ...head, d: 1, theta0: Float32Array.of(1), B: new Float32Array(head.k) };
    await expect(rewards({ backbone: bytes, head: one }, [])).rejects.toThrow(
      /declares input "past_key_values\.0\.key", which sharelora cannot fill/,
    );
  });
});
