import onnxProto from "onnx-proto";
import type { GraphBuilder } from "./graph-builder.js";

const { onnx } = onnxProto;

export const OPSET_VERSION = 17;
/** IR version 8 is the one that goes with opset 17. */
export const IR_VERSION = 8;

export interface EncodeModelOptions {
  producerName?: string;
  docString?: string;
  metadata?: Readonly<Record<string, string>>;
}

export function encodeModel(graph: GraphBuilder, options: EncodeModelOptions = {}): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: "", version: OPSET_VERSION }],
    producerName: options.producerName ?? "sharelora",
    docString: options.docString ?? "",
    metadataProps: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: graph.toGraph(),
  });
  return onnx.ModelProto.encode(model).finish();
}
