import type { GraphBuilder } from "./graph-builder.js";
import { previousTokens } from "./shift-ops.js";
import { dataTypeOf } from "./tensor-proto.js";
import { int, ints } from "./types.js";

export const BYTE_VALUES = 256;
/** Counts per view: each byte value, then each line-initial byte value. */
export const BYTE_COUNT_ROWS = 2 * BYTE_VALUES;
const NEWLINE = 0x0a;

/**
 * log(1 + count) of each byte value in each view, then of each line-initial byte (one that
 * follows a newline or any special token: the start of the text, of the response, padding), as
 * [batch, 512, m] under view weights [batch, seq, m]. Special tokens (ids ≥ 256) count as nothing.
 */
export function byteCounts(
  g: GraphBuilder,
  inputIds: string,
  viewWeights: string,
  vocabSize: number,
): string {
  const table = new Float32Array(vocabSize * BYTE_VALUES);
  for (let b = 0; b < BYTE_VALUES; b++) table[b * BYTE_VALUES + b] = 1;
  const oneHot = g.op(
    "Gather",
    [g.floatInit("byte_one_hot", table, [vocabSize, BYTE_VALUES]), inputIds],
    { axis: int(0) },
  );
  // The token before each position; the first position's is a special token (bos).
  const previous = previousTokens(g, inputIds, BYTE_VALUES);
  const afterBreak = g.op("Or", [
    g.op("Equal", [previous, g.int64Scalar(NEWLINE)]),
    g.op("GreaterOrEqual", [previous, g.int64Scalar(BYTE_VALUES)]),
  ]);
  const lineStart = g.op("Unsqueeze", [
    g.op("Cast", [afterBreak], { to: int(dataTypeOf("float32")) }),
    g.int64Init("axes", [2]),
  ]);
  const both = g.op("Concat", [oneHot, g.op("Mul", [oneHot, lineStart])], { axis: int(2) });
  const counts = g.op("MatMul", [
    g.op("Transpose", [both], { perm: ints([0, 2, 1]) }),
    viewWeights,
  ]);
  return g.op("Log", [g.op("Add", [counts, g.floatScalar(1)])]);
}
