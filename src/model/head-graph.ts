import { encodeModel } from "./onnx/encode-model.js";
import { GraphBuilder } from "./onnx/graph-builder.js";
import { maskAsFloat, weightedMeanPool } from "./onnx/pooling-ops.js";
import { int } from "./onnx/types.js";

export type HeadGraphInput = { kind: "pooled" } | { kind: "hidden"; pooling: "mean" | "cls" };

export interface HeadGraphOptions {
  d: number;
  m: number;
  k: number;
  /** Θ0, d×m row-major. */
  theta0: Float32Array;
  b0: number;
  /** B, d×k row-major. */
  B: Float32Array;
  input: HeadGraphInput;
  /**
   * Rank of pooled `features`: 3 is [batch, d, m], 2 is [batch, d] (m = 1 only). Left out with
   * m = 1, either rank is accepted.
   */
  featuresRank?: 2 | 3;
}

function positiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value <= 0) {
    throw new TypeError(`${name}: expected a positive integer, got ${String(value)}`);
  }
}

function validate(o: HeadGraphOptions): void {
  positiveInteger("d", o.d);
  positiveInteger("m", o.m);
  positiveInteger("k", o.k);
  if (!(o.theta0 instanceof Float32Array) || o.theta0.length !== o.d * o.m) {
    throw new TypeError(`theta0: expected a Float32Array of d·m = ${o.d * o.m} values`);
  }
  if (!(o.B instanceof Float32Array) || o.B.length !== o.d * o.k) {
    throw new TypeError(`B: expected a Float32Array of d·k = ${o.d * o.k} values`);
  }
  if (!Number.isFinite(o.b0)) throw new TypeError(`b0: expected a finite number, got ${o.b0}`);
  if (o.input.kind === "hidden" && o.m !== 1) {
    throw new TypeError(`m: expected 1 when the head pools hidden states in-graph, got ${o.m}`);
  }
  if (o.featuresRank === 2 && o.m !== 1) {
    throw new TypeError(`featuresRank: 2 needs m = 1, got m = ${o.m}`);
  }
}

function transpose(matrix: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(matrix.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[c * rows + r] = matrix[r * cols + c];
  }
  return out;
}

/** Φ as [batch, d, m], from whichever input the options ask for. */
function features(g: GraphBuilder, o: HeadGraphOptions): string {
  const { d, m, input } = o;
  if (input.kind === "hidden") {
    const hidden = g.input("last_hidden_state", "float32", ["batch", "seq", d]);
    const mask = g.input("attention_mask", "int64", ["batch", "seq"]);
    const axes2 = g.int64Init("axes", [2]);
    if (input.pooling === "cls") {
      return g.op("Unsqueeze", [
        g.op("Gather", [hidden, g.int64Scalar(0)], { axis: int(1) }),
        axes2,
      ]);
    }
    return weightedMeanPool(g, hidden, g.op("Unsqueeze", [maskAsFloat(g, mask), axes2]));
  }
  const rank = o.featuresRank ?? (m === 1 ? undefined : 3);
  const dims = rank === undefined ? undefined : rank === 2 ? ["batch", d] : ["batch", d, m];
  const raw = g.input("features", "float32", dims);
  return g.op("Reshape", [raw, g.int64Init("features_shape", [-1, d, m])]);
}

/**
 * The shared head as an ONNX graph: base [batch] = ⟨Θ0, Φ⟩ + b0 and proj [batch, k, m] = BᵀΦ.
 */
export function buildHeadGraph(options: HeadGraphOptions): Uint8Array {
  validate(options);
  const { d, m, k } = options;
  const g = new GraphBuilder("sharelora_head");
  const phi = features(g, options);
  const flat = g.op("Reshape", [phi, g.int64Init("flat_shape", [0, d * m])]);
  const dot = g.op("MatMul", [flat, g.floatInit("theta0", options.theta0, [d * m])]);
  const base = g.op("Add", [dot, g.floatScalar(options.b0)]);
  const proj = g.op("MatMul", [
    g.floatInit("B_transposed", transpose(options.B, d, k), [k, d]),
    phi,
  ]);
  g.output(base, "base", "float32", ["batch"]);
  g.output(proj, "proj", "float32", ["batch", k, m]);
  return encodeModel(g, { docString: "Shared reward head: base reward and k×m projection." });
}
