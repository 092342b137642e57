import type { GraphBuilder } from "./graph-builder.js";
import { float, int, ints } from "./types.js";

/** Initializer names of one pre-LN encoder block; matrices are [in, out]. */
export interface EncoderBlockWeights {
  attentionNorm: { scale: string; bias: string };
  /** [d, 3d]: query, key and value columns, the query already scaled by 1/sqrt(headDim). */
  qkv: string;
  /** [d, d] */
  attentionOut: string;
  mlpNorm: { scale: string; bias: string };
  /** [d, hidden] */
  mlpIn: string;
  /** [hidden, d] */
  mlpOut: string;
}

export interface AttentionShape {
  d: number;
  heads: number;
}

export function layerNorm(
  g: GraphBuilder,
  x: string,
  norm: { scale: string; bias: string },
): string {
  return g.op("LayerNormalization", [x, norm.scale, norm.bias], {
    axis: int(-1),
    epsilon: float(1e-5),
  });
}

/** Exact GELU, 0.5·x·(1 + erf(x/√2)), in the form onnxruntime fuses. */
export function gelu(g: GraphBuilder, x: string): string {
  const erf = g.op("Erf", [g.op("Div", [x, g.floatScalar(Math.SQRT2)])]);
  const onePlus = g.op("Add", [erf, g.floatScalar(1)]);
  return g.op("Mul", [g.op("Mul", [x, onePlus]), g.floatScalar(0.5)]);
}

/**
 * Multi-head self-attention on x [batch, seq, d]. keyBias [batch, 1, 1, seq] is 0 on real keys and
 * a large negative number on padding, so padded keys get exactly zero weight.
 */
export function selfAttention(
  g: GraphBuilder,
  x: string,
  keyBias: string,
  weights: Pick<EncoderBlockWeights, "qkv" | "attentionOut">,
  shape: AttentionShape,
): string {
  const { d, heads } = shape;
  const headShape = g.int64Init("head_shape", [0, 0, heads, d / heads]);
  const qkv = g.op("MatMul", [x, weights.qkv]);
  const [q, k, v] = g.opMulti("Split", [qkv, g.int64Init("qkv_split", [d, d, d])], 3, {
    axis: int(2),
  });
  const toHeads = (value: string, perm: number[]) =>
    g.op("Transpose", [g.op("Reshape", [value, headShape])], { perm: ints(perm) });
  const scores = g.op("MatMul", [toHeads(q, [0, 2, 1, 3]), toHeads(k, [0, 2, 3, 1])]);
  const probs = g.op("Softmax", [g.op("Add", [scores, keyBias])], { axis: int(-1) });
  const context = g.op("MatMul", [probs, toHeads(v, [0, 2, 1, 3])]);
  const merged = g.op("Reshape", [
    g.op("Transpose", [context], { perm: ints([0, 2, 1, 3]) }),
    g.int64Init("merged_shape", [0, 0, d]),
  ]);
  return g.op("MatMul", [merged, weights.attentionOut]);
}

export function encoderBlock(
  g: GraphBuilder,
  x: string,
  keyBias: string,
  weights: EncoderBlockWeights,
  shape: AttentionShape,
): string {
  const attended = selfAttention(
    g,
    layerNorm(g, x, weights.attentionNorm),
    keyBias,
    weights,
    shape,
  );
  const afterAttention = g.op("Add", [x, attended]);
  const hidden = gelu(
    g,
    g.op("MatMul", [layerNorm(g, afterAttention, weights.mlpNorm), weights.mlpIn]),
  );
  return g.op("Add", [afterAttention, g.op("MatMul", [hidden, weights.mlpOut])]);
}
