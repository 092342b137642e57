import { createRng, type Rng, uniformFill } from "../math/random.js";
import { BYTE_COUNT_ROWS, byteCounts } from "./onnx/byte-count-ops.js";
import { encodeModel } from "./onnx/encode-model.js";
import { GraphBuilder } from "./onnx/graph-builder.js";
import { maskAsFloat, maskedMaxPool, weightedMeanPool } from "./onnx/pooling-ops.js";
import { SURFACE_ROWS, surfaceStatistics } from "./onnx/surface-ops.js";
import { dataTypeOf } from "./onnx/tensor-proto.js";
import { type EncoderBlockWeights, encoderBlock, layerNorm } from "./onnx/transformer-ops.js";
import { int } from "./onnx/types.js";

export type BackboneViews = "prompt_response" | "mean" | "mean_max";

export interface DefaultBackboneOptions {
  seed?: number;
  d?: number;
  layers?: number;
  heads?: number;
  maxLength?: number;
  views?: BackboneViews;
  /**
   * Append log-counts of each byte and each line-initial byte per view (512 more rows of Φ).
   * Not with mean_max, whose second column is not a view of its own.
   */
  byteCounts?: boolean;
  /**
   * Append surface statistics per view (SURFACE_ROWS more rows of Φ, after any byte counts):
   * log-counts of byte classes, overall and at line starts, of word starts, digit runs and
   * capital pairs. Not with mean_max.
   */
  surface?: boolean;
}

export const BYTE_VOCAB = { size: 260, pad: 256, bos: 257, sep: 258, eos: 259 } as const;

export const VIEW_COUNT: Record<BackboneViews, number> = {
  prompt_response: 2,
  mean: 1,
  mean_max: 2,
};

const MASKED_KEY_BIAS = -1e9;
const POSITION_STD = 0.5;
const SQRT3 = Math.sqrt(3);

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) {
    throw new TypeError(`${name}: expected a positive integer, got ${String(value)}`);
  }
  return value;
}

function resolve(options: DefaultBackboneOptions): Required<DefaultBackboneOptions> {
  const resolved = {
    seed: options.seed ?? 0,
    d: positiveInteger("d", options.d ?? 256),
    layers: positiveInteger("layers", options.layers ?? 4),
    heads: positiveInteger("heads", options.heads ?? 4),
    maxLength: positiveInteger("maxLength", options.maxLength ?? 512),
    views: options.views ?? "prompt_response",
    byteCounts: options.byteCounts ?? false,
    surface: options.surface ?? false,
  };
  for (const view of ["byteCounts", "surface"] as const) {
    if (resolved[view] && resolved.views === "mean_max") {
      throw new TypeError(`${view}: expected views prompt_response or mean, not mean_max`);
    }
  }
  if (resolved.d % resolved.heads !== 0) {
    throw new TypeError(`d: expected a multiple of heads (${resolved.heads}), got ${resolved.d}`);
  }
  if (!(resolved.views in VIEW_COUNT)) {
    throw new TypeError(`views: expected one of ${Object.keys(VIEW_COUNT).join(", ")}`);
  }
  return resolved;
}

/** Uniform weights with the given standard deviation (a uniform on [-a, a] has std a/√3). */
function weight(g: GraphBuilder, rng: Rng, hint: string, dims: number[], std: number): string {
  const size = dims.reduce((product, dim) => product * dim, 1);
  return g.floatInit(hint, uniformFill(rng, size, std * SQRT3), dims);
}

function qkvWeight(g: GraphBuilder, rng: Rng, d: number, headDim: number): string {
  const data = uniformFill(rng, d * 3 * d, SQRT3 / Math.sqrt(d));
  const queryScale = 1 / Math.sqrt(headDim);
  for (let row = 0; row < d; row++) {
    for (let col = 0; col < d; col++) data[row * 3 * d + col] *= queryScale;
  }
  return g.floatInit("qkv", data, [d, 3 * d]);
}

function blockWeights(
  g: GraphBuilder,
  rng: Rng,
  o: Required<DefaultBackboneOptions>,
  norm: { scale: string; bias: string },
): EncoderBlockWeights {
  const { d, layers } = o;
  const residualScale = 1 / Math.sqrt(2 * layers);
  return {
    attentionNorm: norm,
    qkv: qkvWeight(g, rng, d, d / o.heads),
    attentionOut: weight(g, rng, "attention_out", [d, d], residualScale / Math.sqrt(d)),
    mlpNorm: norm,
    mlpIn: weight(g, rng, "mlp_in", [d, 4 * d], 1 / Math.sqrt(d)),
    mlpOut: weight(g, rng, "mlp_out", [4 * d, d], residualScale / Math.sqrt(4 * d)),
  };
}

/** [batch, seq, m] 0/1 float weights of each view, padding excluded. */
function viewWeights(
  g: GraphBuilder,
  inputIds: string,
  maskFloat: string,
  views: BackboneViews,
): string {
  const mask3 = g.op("Unsqueeze", [maskFloat, g.int64Init("axes", [2])]);
  if (views !== "prompt_response") return mask3;
  const axis = g.int64Scalar(1);
  const isSep = g.op("Cast", [g.op("Equal", [inputIds, g.int64Scalar(BYTE_VOCAB.sep)])], {
    to: int(dataTypeOf("int64")),
  });
  const sepsSoFar = g.op("CumSum", [isSep, axis]);
  const toFloat = { to: int(dataTypeOf("float32")) };
  const prompt = g.op("Cast", [g.op("Equal", [sepsSoFar, g.int64Scalar(0)])], toFloat);
  const afterSep = g.op("Greater", [g.op("Sub", [sepsSoFar, isSep]), g.int64Scalar(0)]);
  const response = g.op("Cast", [afterSep], toFloat);
  const both = g.op(
    "Concat",
    [
      g.op("Unsqueeze", [prompt, g.int64Init("axes", [2])]),
      g.op("Unsqueeze", [response, g.int64Init("axes", [2])]),
    ],
    { axis: int(2) },
  );
  return g.op("Mul", [both, mask3]);
}

function pool(
  g: GraphBuilder,
  hidden: string,
  inputIds: string,
  maskFloat: string,
  views: BackboneViews,
): string {
  const mean = weightedMeanPool(g, hidden, viewWeights(g, inputIds, maskFloat, views));
  if (views !== "mean_max") return mean;
  const max = g.op("Unsqueeze", [maskedMaxPool(g, hidden, maskFloat), g.int64Init("axes", [2])]);
  return g.op("Concat", [mean, max], { axis: int(2) });
}

/** Rows of Φ: the hidden width, plus the byte counts and surface statistics when asked for. */
export function featureRows(options: DefaultBackboneOptions = {}): number {
  const o = resolve(options);
  return o.d + (o.byteCounts ? BYTE_COUNT_ROWS : 0) + (o.surface ? SURFACE_ROWS : 0);
}

/**
 * A small seeded byte-level pre-LN transformer encoder: input_ids and attention_mask, int64
 * [batch, seq], to features float32 [batch, d, m]. Positions count real tokens only, and padded
 * keys are masked out, so padding (left or right) leaves the features unchanged.
 */
export function buildDefaultBackbone(options: DefaultBackboneOptions = {}): Uint8Array {
  const o = resolve(options);
  const rng = createRng(o.seed);
  const g = new GraphBuilder("sharelora_default_backbone");
  const inputIds = g.input("input_ids", "int64", ["batch", "seq"]);
  const mask = g.input("attention_mask", "int64", ["batch", "seq"]);

  const tokenTable = weight(g, rng, "token_embedding", [BYTE_VOCAB.size, o.d], 1);
  const positionTable = weight(g, rng, "position_embedding", [o.maxLength, o.d], POSITION_STD);
  const positions = g.op("Sub", [g.op("CumSum", [mask, g.int64Scalar(1)]), mask]);
  let x = g.op("Add", [
    g.op("Gather", [tokenTable, inputIds], { axis: int(0) }),
    g.op("Gather", [positionTable, positions], { axis: int(0) }),
  ]);

  const maskFloat = maskAsFloat(g, mask);
  const keyBias = g.op("Unsqueeze", [
    g.op("Mul", [g.op("Sub", [maskFloat, g.floatScalar(1)]), g.floatScalar(-MASKED_KEY_BIAS)]),
    g.int64Init("axes", [1, 2]),
  ]);
  const norm = {
    scale: g.floatInit("norm_scale", new Float32Array(o.d).fill(1), [o.d]),
    bias: g.floatInit("norm_bias", new Float32Array(o.d), [o.d]),
  };
  for (let layer = 0; layer < o.layers; layer++) {
    x = encoderBlock(g, x, keyBias, blockWeights(g, rng, o, norm), o);
  }
  const hidden = layerNorm(g, x, norm);
  let features = pool(g, hidden, inputIds, maskFloat, o.views);
  const countViews = [
    ...(o.byteCounts ? [byteCounts] : []),
    ...(o.surface ? [surfaceStatistics] : []),
  ];
  if (countViews.length > 0) {
    const weights = viewWeights(g, inputIds, maskFloat, o.views);
    const counts = countViews.map((view) => view(g, inputIds, weights, BYTE_VOCAB.size));
    features = g.op("Concat", [features, ...counts], { axis: int(1) });
  }
  g.output(features, "features", "float32", ["batch", featureRows(o), VIEW_COUNT[o.views]]);
  return encodeModel(g, {
    docString: "Seeded byte-level transformer encoder (untrained, frozen feature map).",
    metadata: {
      seed: String(o.seed),
      views: o.views,
      max_length: String(o.maxLength),
      ...(o.byteCounts ? { byte_counts: "log1p bytes, log1p line-initial bytes" } : {}),
      ...(o.surface
        ? {
            surface:
              "log1p byte classes, line-initial classes, word starts, digit runs, capital pairs",
          }
        : {}),
    },
  });
}
