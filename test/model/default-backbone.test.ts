import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import onnxProto from "onnx-proto";
import * as ort from "onnxruntime-node";
import { beforeAll, describe, expect, it } from "vitest";
import {
  buildDefaultModelDir,
  DEFAULT_BACKBONE_OPTIONS,
  sha256Hex,
} from "../../src/model/build-default-cli.js";
import {
  type BackboneViews,
  BYTE_VOCAB,
  buildDefaultBackbone,
  type DefaultBackboneOptions,
  featureRows,
} from "../../src/model/default-backbone.js";
import { SURFACE_ROWS, surfaceCounts } from "../../src/model/onnx/surface-ops.js";

const { onnx } = onnxProto;
const { bos, sep, eos, pad } = BYTE_VOCAB;

/** Pinned so that a platform or Node version producing other weights fails loudly. */
const DEFAULT_BACKBONE_SHA256 = "53ff34eb83d33dfef374ab36c3a77c12d9b84f913926cca65f8bccd2571ac225";

function encode(prompt: string, response: string): number[] {
  return [bos, ...Buffer.from(prompt), sep, ...Buffer.from(response), eos];
}

interface Features {
  data: Float32Array;
  dims: readonly number[];
}

/** Runs a batch, padding each sequence on the given side. */
async function run(
  session: ort.InferenceSession,
  batch: number[][],
  side: "right" | "left" = "right",
): Promise<Features> {
  const length = Math.max(...batch.map((ids) => ids.length));
  const ids = new BigInt64Array(batch.length * length).fill(BigInt(pad));
  const mask = new BigInt64Array(batch.length * length);
  batch.forEach((sequence, b) => {
    const offset = b * length + (side === "left" ? length - sequence.length : 0);
    sequence.forEach((id, t) => {
      ids[offset + t] = BigInt(id);
      mask[offset + t] = 1n;
    });
  });
  const dims = [batch.length, length];
  const { features } = await session.run({
    input_ids: new ort.Tensor("int64", ids, dims),
    attention_mask: new ort.Tensor("int64", mask, dims),
  });
  return { data: features!.data as Float32Array, dims: features!.dims };
}

/** Row b of features [batch, d, m]. */
function row(features: Features, b: number): Float32Array {
  const size = features.dims[1]! * features.dims[2]!;
  return features.data.slice(b * size, (b + 1) * size);
}

/** View j (length d) of one row laid out d×m. */
function view(rowData: Float32Array, m: number, j: number): Float64Array {
  return Float64Array.from({ length: rowData.length / m }, (_, i) => rowData[i * m + j]!);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

describe("buildDefaultBackbone", () => {
  let bytes: Uint8Array;
  let session: ort.InferenceSession;

  beforeAll(async () => {
    bytes = buildDefaultBackbone(DEFAULT_BACKBONE_OPTIONS);
    session = await ort.InferenceSession.create(bytes);
  });

  it("is byte-for-byte reproducible and pinned", () => {
    const again = buildDefaultBackbone(DEFAULT_BACKBONE_OPTIONS);
    expect(Buffer.compare(Buffer.from(again), Buffer.from(bytes))).toBe(0);
    expect(sha256Hex(again)).toBe(sha256Hex(bytes));
    expect(sha256Hex(bytes)).toBe(DEFAULT_BACKBONE_SHA256);
    const otherSeed = buildDefaultBackbone({ ...DEFAULT_BACKBONE_OPTIONS, seed: 1 });
    expect(sha256Hex(otherSeed)).not.toBe(sha256Hex(bytes));
  });

  it("takes input_ids and attention_mask and gives finite features [batch, 256 + surface rows, 2]", async () => {
    expect(session.inputNames).toEqual(["input_ids", "attention_mask"]);
    expect(session.outputNames).toEqual(["features"]);
    const features = await run(session, [encode("Hi", "Hello there"), encode("a", "")]);
    expect(features.dims).toEqual([2, 256 + SURFACE_ROWS, 2]);
    expect(features.data.every(Number.isFinite)).toBe(true);
    const scale = Math.sqrt(
      features.data.reduce((sum, v) => sum + v * v, 0) / features.data.length,
    );
    expect(scale).toBeGreaterThan(0.05);
    expect(scale).toBeLessThan(10);
  });

  it("gives the same features with or without padding, on either side", async () => {
    const short = encode("What is 2+2?", "4");
    const long = encode("Tell me a story about a dragon.", "Once upon a time ".repeat(6));
    const alone = row(await run(session, [short]), 0);
    for (const side of ["right", "left"] as const) {
      const padded = row(await run(session, [long, short], side), 1);
      expect(maxAbsDiff(alone, padded)).toBeLessThan(1e-5);
    }
  });

  it("pools the response into view 1: changing only response bytes changes it", async () => {
    const features = await run(session, [
      encode("Same prompt", "answer A"),
      encode("Same prompt", "answer B"),
    ]);
    const [a, b] = [row(features, 0), row(features, 1)];
    expect(maxAbsDiff(view(a, 2, 1), view(b, 2, 1))).toBeGreaterThan(1e-3);
  });

  it("gives zeros for an empty segment: no SEP means no response view", async () => {
    const features = row(await run(session, [[bos, ...Buffer.from("no separator"), eos]]), 0);
    expect(view(features, 2, 0).some((v) => Math.abs(v) > 1e-3)).toBe(true);
    expect(view(features, 2, 1).every((v) => v === 0)).toBe(true);
  });
});

describe("buildDefaultModelDir", () => {
  it("writes backbone.onnx only when missing or different", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sharelora-backbone-"));
    try {
      const first = await buildDefaultModelDir(dir);
      expect(first.written).toBe(true);
      expect(sha256Hex(await readFile(first.path))).toBe(DEFAULT_BACKBONE_SHA256);
      expect(first.sha256).toBe(DEFAULT_BACKBONE_SHA256);
      expect((await buildDefaultModelDir(dir)).written).toBe(false);
      await writeFile(first.path, "corrupt");
      expect((await buildDefaultModelDir(dir)).written).toBe(true);
      expect(sha256Hex(await readFile(first.path))).toBe(DEFAULT_BACKBONE_SHA256);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

// ---- float64 reference of a tiny configuration, weights read back from the model ----

const TINY: DefaultBackboneOptions = { seed: 7, d: 16, layers: 2, heads: 2, maxLength: 32 };

type Matrix = { data: Float64Array; rows: number; cols: number };

function initializers(model: Uint8Array): Map<string, Matrix[]> {
  const graph = onnx.ModelProto.decode(model).graph as onnxProto.onnx.GraphProto;
  const byKind = new Map<string, Matrix[]>();
  for (const tensor of graph.initializer as onnxProto.onnx.TensorProto[]) {
    if (tensor.dataType !== onnx.TensorProto.DataType.FLOAT || tensor.dims.length !== 2) continue;
    const raw = tensor.rawData;
    const floats = new Float32Array(
      raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength),
    );
    const kind = tensor.name.replace(/_\d+$/, "");
    const list = byKind.get(kind) ?? [];
    list.push({
      data: Float64Array.from(floats),
      rows: Number(tensor.dims[0]),
      cols: Number(tensor.dims[1]),
    });
    byKind.set(kind, list);
  }
  return byKind;
}

function matmul(x: Float64Array[], w: Matrix): Float64Array[] {
  return x.map((v) => {
    const out = new Float64Array(w.cols);
    for (let i = 0; i < w.rows; i++)
      for (let j = 0; j < w.cols; j++) out[j]! += v[i]! * w.data[i * w.cols + j]!;
    return out;
  });
}

function layerNorm(v: Float64Array): Float64Array {
  const mean = v.reduce((s, x) => s + x, 0) / v.length;
  const variance = v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length;
  return v.map((x) => (x - mean) / Math.sqrt(variance + 1e-5));
}

/** Abramowitz–Stegun 7.1.26, absolute error below 1.5e-7. */
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const poly =
    t *
    (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return Math.sign(x) * (1 - poly * Math.exp(-x * x));
}

function referenceHidden(
  model: Uint8Array,
  ids: number[],
  o: DefaultBackboneOptions,
): Float64Array[] {
  const w = initializers(model);
  const d = o.d!;
  const headDim = d / o.heads!;
  const [tokens, positions] = [w.get("token_embedding")![0]!, w.get("position_embedding")![0]!];
  let x = ids.map((id, t) =>
    Float64Array.from(
      { length: d },
      (_, i) => tokens.data[id * d + i]! + positions.data[t * d + i]!,
    ),
  );
  for (let layer = 0; layer < o.layers!; layer++) {
    const qkv = matmul(x.map(layerNorm), w.get("qkv")![layer]!);
    const context = x.map(() => new Float64Array(d));
    for (let h = 0; h < o.heads!; h++) {
      const off = h * headDim;
      for (let s = 0; s < x.length; s++) {
        const scores = qkv.map((kv) => {
          let dot = 0;
          for (let e = 0; e < headDim; e++) dot += qkv[s]![off + e]! * kv[d + off + e]!;
          return dot;
        });
        const top = Math.max(...scores);
        const weights = scores.map((z) => Math.exp(z - top));
        const total = weights.reduce((a, b) => a + b, 0);
        for (let t = 0; t < x.length; t++) {
          for (let e = 0; e < headDim; e++)
            context[s]![off + e]! += (weights[t]! / total) * qkv[t]![2 * d + off + e]!;
        }
      }
    }
    const attended = matmul(context, w.get("attention_out")![layer]!);
    x = x.map((v, t) => v.map((value, i) => value + attended[t]![i]!));
    const hidden = matmul(x.map(layerNorm), w.get("mlp_in")![layer]!).map((v) =>
      v.map((z) => 0.5 * z * (1 + erf(z / Math.SQRT2))),
    );
    const mlp = matmul(hidden, w.get("mlp_out")![layer]!);
    x = x.map((v, t) => v.map((value, i) => value + mlp[t]![i]!));
  }
  return x.map(layerNorm);
}

function referenceFeatures(hidden: Float64Array[], ids: number[], views: BackboneViews): number[] {
  const sepAt = ids.indexOf(sep);
  const segments =
    views === "prompt_response" ? [hidden.slice(0, sepAt), hidden.slice(sepAt + 1)] : [hidden];
  const out: number[] = [];
  for (let i = 0; i < hidden[0]!.length; i++) {
    for (const segment of segments)
      out.push(segment.reduce((s, v) => s + v[i]!, 0) / segment.length);
    if (views === "mean_max") out.push(Math.max(...hidden.map((v) => v[i]!)));
  }
  return out;
}

describe("buildDefaultBackbone against a float64 reference", () => {
  for (const views of ["prompt_response", "mean", "mean_max"] as const) {
    it(`computes the encoder and ${views} pooling under padding (tolerance 1e-4 absolute)`, async () => {
      const options = { ...TINY, views };
      const model = buildDefaultBackbone(options);
      const session = await ort.InferenceSession.create(model);
      const batch = [encode("ab", "cde"), encode("prompt", "r")];
      const features = await run(session, batch);
      expect(features.dims).toEqual([2, 16, views === "mean" ? 1 : 2]);
      batch.forEach((ids, b) => {
        const want = referenceFeatures(referenceHidden(model, ids, options), ids, views);
        expect(maxAbsDiff(row(features, b), want)).toBeLessThan(1e-4);
      });
    });
  }
});

describe("buildDefaultBackbone with byte counts", () => {
  const options = {
    ...DEFAULT_BACKBONE_OPTIONS,
    d: 16,
    layers: 1,
    heads: 2,
    byteCounts: true,
    surface: false,
  };

  /** log1p counts of each byte, then of each byte at a line start (after '\n' or the segment start). */
  function reference(text: string): Float64Array {
    const counts = new Float64Array(512);
    let previousIsBreak = true;
    for (const byte of Buffer.from(text)) {
      counts[byte]! += 1;
      if (previousIsBreak) counts[256 + byte]! += 1;
      previousIsBreak = byte === 0x0a;
    }
    return counts.map(Math.log1p);
  }

  it("appends each view's byte and line-start log-counts, unchanged by padding on either side", async () => {
    const session = await ort.InferenceSession.create(buildDefaultBackbone(options));
    expect(featureRows(options)).toBe(16 + 512);
    const prompt = "Tell me:\nwhat is 2+2?";
    const response = "- four 🎲\n- 4!\n\n```\ncode\n```\n# Done";
    const short = encode("Hi", "Hello");
    for (const side of ["right", "left"] as const) {
      const features = await run(session, [encode(prompt, response), short], side);
      expect(features.dims).toEqual([2, 16 + 512, 2]);
      const first = row(features, 0);
      const tail = (j: number) => view(first, 2, j).slice(16);
      expect(maxAbsDiff(tail(0), reference(prompt))).toBeLessThan(1e-6);
      expect(maxAbsDiff(tail(1), reference(response))).toBeLessThan(1e-6);
      expect(maxAbsDiff(view(row(features, 1), 2, 1).slice(16), reference("Hello"))).toBeLessThan(
        1e-6,
      );
    }
    // The transformer rows are those of the same backbone without counts.
    const plain = await ort.InferenceSession.create(
      buildDefaultBackbone({ ...options, byteCounts: false }),
    );
    const withCounts = row(await run(session, [short]), 0);
    const without = row(await run(plain, [short]), 0);
    expect(maxAbsDiff(withCounts.slice(0, 16 * 2), without)).toBe(0);
  });

  it("refuses mean_max, whose second column is not a view", () => {
    expect(() => buildDefaultBackbone({ ...options, views: "mean_max" })).toThrow(/byteCounts/);
  });
});

describe("buildDefaultBackbone with surface statistics", () => {
  const options = { ...DEFAULT_BACKBONE_OPTIONS, d: 16, layers: 1, heads: 2, surface: true };

  it("counts byte classes, line starts, word starts, digit runs and capital pairs", () => {
    // Rows: 9 classes then 32 punctuation marks, the same at line starts, then three transitions.
    const counts = surfaceCounts("Hi THERE 42!\n- x 7").map((x) => Math.round(Math.expm1(x)));
    const classes = 9 + 32;
    const [any, nonSpace, space, newline, capital, lower, digit] = counts;
    expect([any, nonSpace, space, newline, capital, lower, digit]).toEqual([18, 13, 5, 1, 6, 2, 3]);
    expect(counts[9]).toBe(1); // '!'
    expect(counts[9 + 12]).toBe(1); // '-'
    expect(counts[classes + 0]).toBe(2); // 'H' and '-' start lines
    expect(counts[classes + 4]).toBe(1);
    expect(counts[classes + 9 + 12]).toBe(1);
    expect(counts.slice(2 * classes)).toEqual(Float64Array.of(6, 2, 4)); // words, numbers, capital pairs
    expect(counts.length).toBe(SURFACE_ROWS);
  });

  it("appends each view's surface statistics, unchanged by padding on either side", async () => {
    const session = await ort.InferenceSession.create(buildDefaultBackbone(options));
    expect(featureRows(options)).toBe(16 + SURFACE_ROWS);
    const prompt = "Tell me:\nwhat is 2+2?";
    const response = "- four 🎲\n- 4!\n\n```\ncode\n```\n# Done, SHOUTED 123";
    const short = encode("Hi", "Hello");
    for (const side of ["right", "left"] as const) {
      const features = await run(session, [encode(prompt, response), short], side);
      expect(features.dims).toEqual([2, 16 + SURFACE_ROWS, 2]);
      const first = row(features, 0);
      const tail = (j: number) => view(first, 2, j).slice(16);
      expect(maxAbsDiff(tail(0), surfaceCounts(prompt))).toBeLessThan(1e-6);
      expect(maxAbsDiff(tail(1), surfaceCounts(response))).toBeLessThan(1e-6);
      expect(
        maxAbsDiff(view(row(features, 1), 2, 1).slice(16), surfaceCounts("Hello")),
      ).toBeLessThan(1e-6);
    }
  });

  it("follows the byte counts when both are asked for, and refuses mean_max", async () => {
    const both = { ...options, byteCounts: true };
    const session = await ort.InferenceSession.create(buildDefaultBackbone(both));
    expect(featureRows(both)).toBe(16 + 512 + SURFACE_ROWS);
    const features = await run(session, [encode("Q", "A 1")]);
    expect(
      maxAbsDiff(view(row(features, 0), 2, 1).slice(16 + 512), surfaceCounts("A 1")),
    ).toBeLessThan(1e-6);
    expect(() => buildDefaultBackbone({ ...options, views: "mean_max" })).toThrow(/surface/);
  });
});
