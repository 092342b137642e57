import onnxProto from "onnx-proto";

const { onnx } = onnxProto;

/** A dimension: its size when the graph fixes one, else its symbolic name (or null). */
export type GraphDim = number | string | null;

export interface GraphValue {
  name: string;
  /** ONNX element type name, e.g. "float32", "float16", "bfloat16", "int64"; null when unknown. */
  elemType: string | null;
  /** null when the graph declares no shape. */
  dims: GraphDim[] | null;
}

export interface GraphInfo {
  inputs: GraphValue[];
  outputs: GraphValue[];
  /** Files the initializers' external data lives in, relative to the graph file, in first-use order. */
  externalDataFiles: string[];
}

export class GraphInfoError extends Error {
  readonly code = "ONNX_GRAPH_INVALID";
  override readonly name = "GraphInfoError";
}

const ELEM_TYPES: Record<number, string> = {
  1: "float32",
  2: "uint8",
  3: "int8",
  5: "int16",
  6: "int32",
  7: "int64",
  9: "bool",
  10: "float16",
  11: "float64",
  16: "bfloat16",
};

function toNumber(value: number | { toNumber(): number } | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  return typeof value === "number" ? value : value.toNumber();
}

function graphValue(info: onnxProto.onnx.IValueInfoProto): GraphValue {
  const tensor = info.type?.tensorType;
  const elem = toNumber(tensor?.elemType);
  const dims =
    tensor?.shape?.dim?.map((dim): GraphDim => {
      if (dim.dimParam) return dim.dimParam;
      const size = toNumber(dim.dimValue);
      return size !== null && size > 0 ? size : null;
    }) ?? null;
  return {
    name: info.name ?? "",
    elemType: elem === null ? null : (ELEM_TYPES[elem] ?? `onnx-type-${elem}`),
    dims,
  };
}

/**
 * The inputs, outputs and external data files of an ONNX graph file. Only the graph file is
 * parsed: initializers kept in external data (`model.onnx_data`) are named, never read.
 */
export function readGraphInfo(bytes: Uint8Array, source: string): GraphInfo {
  let model: onnxProto.onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw new GraphInfoError(`${source}: not an ONNX model: ${(error as Error).message}`);
  }
  const graph = model.graph;
  if (!graph) throw new GraphInfoError(`${source}: the ONNX model has no graph`);
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name ?? ""));
  const externalDataFiles: string[] = [];
  for (const tensor of graph.initializer ?? []) {
    if (tensor.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) continue;
    const location = tensor.externalData?.find((entry) => entry.key === "location")?.value;
    if (!location) {
      throw new GraphInfoError(
        `${source}: initializer ${tensor.name} keeps its data externally but names no location`,
      );
    }
    if (!externalDataFiles.includes(location)) externalDataFiles.push(location);
  }
  return {
    // Old exporters list initializers among the inputs; they are not fed.
    inputs: (graph.input ?? []).filter((v) => !initializers.has(v.name ?? "")).map(graphValue),
    outputs: (graph.output ?? []).map(graphValue),
    externalDataFiles,
  };
}
