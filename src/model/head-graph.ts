import { encodeModel } from "./onnx/encode-model.js";
import { GraphBuilder } from "./onnx/graph-builder.js";
import { asFloat32, lastTokenPool, maskAsFloat, weightedMeanPool } from "./onnx/pooling-ops.js";
import { int } from "./onnx/types.js";

/** Element type of the backbone output the head reads; bfloat16 is cast inside the backbone graph. */
export type HeadInputType = "float32" | "float16";

export type HeadGraphInput =
  | { kind: "pooled"; type?: HeadInputType }
  | {
      kind: "hidden";
      pooling: "mean" | "cls" | "last";
      /** Where the batch pads ("last" reads sum(mask) − 1 on the right, the last position on the left). */
      paddingSide?: "right" | "left";
      type?: HeadInputType;
    };

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
  const type = input.type ?? "float32";
  if (input.kind === "hidden") {
    const hidden = g.input("last_hidden_state", type, ["batch", "seq", d]);
    const mask = g.input("attention_mask", "int64", ["batch", "seq"]);
    const axes2 = g.int64Init("axes", [2]);
    // Gathering pools pick d values per row, so they cast after pooling; the mean casts first.
    if (input.pooling === "cls") {
      const first = g.op("Gather", [hidden, g.int64Scalar(0)], { axis: int(1) });
      return g.op("Unsqueeze", [asFloat32(g, first, type), axes2]);
    }
    if (input.pooling === "last") {
      const last = lastTokenPool(g, hidden, mask, input.paddingSide ?? "right");
      return g.op("Unsqueeze", [asFloat32(g, last, type), axes2]);
    }
    const wide = asFloat32(g, hidden, type);
    return weightedMeanPool(g, wide, g.op("Unsqueeze", [maskAsFloat(g, mask), axes2]));
  }
  const rank = o.featuresRank ?? (m === 1 ? undefined : 3);
  const dims = rank === undefined ? undefined : rank === 2 ? ["batch", d] : ["batch", d, m];
  const raw = asFloat32(g, g.input("features", type, dims), type);
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

/** The head graph of a head's own tensors (Θ0, b0, B and their shapes). */
export function buildHeadGraphOf(
  head: Pick<HeadGraphOptions, "d" | "m" | "k" | "theta0" | "b0" | "B">,
  input: HeadGraphInput,
): Uint8Array {
  const { d, m, k, theta0, b0, B } = head;
  return buildHeadGraph({ d, m, k, theta0, b0, B, input });
}
