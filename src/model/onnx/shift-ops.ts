import type { GraphBuilder } from "./graph-builder.js";

/** input_ids [batch, seq] shifted right by one: the token before each position, `fill` first. */
export function previousTokens(g: GraphBuilder, inputIds: string, fill: number): string {
  const padded = g.op("Pad", [inputIds, g.int64Init("pads", [0, 1, 0, 0]), g.int64Scalar(fill)]);
  return g.op("Slice", [
    padded,
    g.int64Init("starts", [0]),
    g.int64Init("ends", [-1]),
    g.int64Init("axes", [1]),
  ]);
}
