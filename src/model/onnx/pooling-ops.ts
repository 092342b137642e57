import type { GraphBuilder } from "./graph-builder.js";
import { dataTypeOf } from "./tensor-proto.js";
import { int, ints } from "./types.js";

const FLOAT32_LOWEST = -3.4028234663852886e38;

/**
 * Weighted means of hidden [batch, seq, d] under weights [batch, seq, m] holding 0/1, giving
 * [batch, d, m]. A view whose weights are all zero pools to zeros instead of dividing by zero.
 */
export function weightedMeanPool(g: GraphBuilder, hidden: string, weights: string): string {
  const sums = g.op("MatMul", [g.op("Transpose", [weights], { perm: ints([0, 2, 1]) }), hidden]);
  const counts = g.op("ReduceSum", [weights, g.int64Init("axes", [1])], { keepdims: int(1) });
  const safeCounts = g.op("Max", [counts, g.floatScalar(1)]);
  return g.op("Div", [g.op("Transpose", [sums], { perm: ints([0, 2, 1]) }), safeCounts]);
}

/** Masked max over seq of hidden [batch, seq, d] under maskFloat [batch, seq]; [batch, d]. */
export function maskedMaxPool(g: GraphBuilder, hidden: string, maskFloat: string): string {
  const maskBool = g.op("Cast", [maskFloat], { to: int(dataTypeOf("bool")) });
  const keep = g.op("Unsqueeze", [maskBool, g.int64Init("axes", [2])]);
  const filled = g.op("Where", [keep, hidden, g.floatScalar(FLOAT32_LOWEST)]);
  const max = g.op("ReduceMax", [filled], { axes: ints([1]), keepdims: int(0) });
  const counts = g.op("ReduceSum", [maskFloat, g.int64Init("axes", [1])], { keepdims: int(1) });
  const any = g.op("Greater", [counts, g.floatScalar(0)]);
  return g.op("Where", [any, max, g.floatScalar(0)]);
}

/** attention_mask int64 [batch, seq] as float32. */
export function maskAsFloat(g: GraphBuilder, attentionMask: string): string {
  return g.op("Cast", [attentionMask], { to: int(dataTypeOf("float32")) });
}

/**
 * The hidden state [batch, d] of each sequence's last real token. Right padding: position
 * sum(mask) − 1 (an empty row reads position 0); left padding: the last position.
 */
export function lastTokenPool(
  g: GraphBuilder,
  hidden: string,
  attentionMask: string,
  paddingSide: "right" | "left",
): string {
  if (paddingSide === "left") {
    return g.op("Gather", [hidden, g.int64Scalar(-1)], { axis: int(1) });
  }
  const lengths = g.op("ReduceSum", [attentionMask, g.int64Init("axes", [1])], {
    keepdims: int(1),
  });
  const last = g.op("Max", [g.op("Sub", [lengths, g.int64Scalar(1)]), g.int64Scalar(0)]);
  return g.op("GatherND", [hidden, last], { batch_dims: int(1) });
}

/** value as float32: one Cast, or the value itself when it is float32 already. */
export function asFloat32(g: GraphBuilder, value: string, type: "float32" | "float16"): string {
  return type === "float32" ? value : g.op("Cast", [value], { to: int(dataTypeOf("float32")) });
}
