import onnxProto from "onnx-proto";
import { float32Tensor, int64Tensor, valueInfo } from "./tensor-proto.js";
import type { Attribute, Attributes, Dim, ElemType } from "./types.js";

const { onnx } = onnxProto;
type AttributeProto = onnxProto.onnx.IAttributeProto;

function attributeProto(name: string, attribute: Attribute): AttributeProto {
  const { AttributeType } = onnx.AttributeProto;
  switch (attribute.kind) {
    case "int":
      return { name, type: AttributeType.INT, i: attribute.value };
    case "ints":
      return { name, type: AttributeType.INTS, ints: [...attribute.value] };
    case "float":
      return { name, type: AttributeType.FLOAT, f: attribute.value };
  }
}

/**
 * Collects the nodes, initializers, inputs and outputs of one ONNX graph. Value names are
 * generated from a counter, so building the same graph twice yields identical protos.
 */
export class GraphBuilder {
  readonly #name: string;
  readonly #nodes: onnxProto.onnx.INodeProto[] = [];
  readonly #initializers: onnxProto.onnx.ITensorProto[] = [];
  readonly #inputs: onnxProto.onnx.IValueInfoProto[] = [];
  readonly #outputs: onnxProto.onnx.IValueInfoProto[] = [];
  readonly #names = new Set<string>();
  #counter = 0;

  constructor(name: string) {
    this.#name = name;
  }

  #claim(name: string): string {
    if (this.#names.has(name)) throw new TypeError(`Graph value "${name}" is already defined`);
    this.#names.add(name);
    return name;
  }

  #fresh(hint: string): string {
    this.#counter += 1;
    return this.#claim(`${hint}_${this.#counter}`);
  }

  input(name: string, type: ElemType, dims?: readonly Dim[]): string {
    this.#inputs.push(valueInfo(this.#claim(name), type, dims));
    return name;
  }

  /** Exposes `value` as graph output `name`. */
  output(value: string, name: string, type: ElemType, dims?: readonly Dim[]): void {
    if (value !== name) this.op("Identity", [value], {}, name);
    this.#outputs.push(valueInfo(name, type, dims));
  }

  floatInit(hint: string, data: Float32Array, dims: readonly number[]): string {
    const name = this.#fresh(hint);
    this.#initializers.push(float32Tensor(name, data, dims));
    return name;
  }

  int64Init(
    hint: string,
    values: readonly number[],
    dims: readonly number[] = [values.length],
  ): string {
    const name = this.#fresh(hint);
    this.#initializers.push(int64Tensor(name, values, dims));
    return name;
  }

  floatScalar(value: number): string {
    return this.floatInit("scalar", Float32Array.of(value), []);
  }

  int64Scalar(value: number): string {
    return this.int64Init("scalar", [value], []);
  }

  /** Adds a node with one output and returns the output's name. */
  op(
    opType: string,
    inputs: readonly string[],
    attributes: Attributes = {},
    outputName?: string,
  ): string {
    return this.opMulti(opType, inputs, 1, attributes, outputName)[0];
  }

  opMulti(
    opType: string,
    inputs: readonly string[],
    outputCount: number,
    attributes: Attributes = {},
    outputName?: string,
  ): string[] {
    const base = outputName === undefined ? this.#fresh(opType) : this.#claim(outputName);
    const outputs = [base];
    for (let i = 1; i < outputCount; i++) outputs.push(this.#claim(`${base}_out${i}`));
    this.#nodes.push({
      name: `${base}/node`,
      opType,
      input: [...inputs],
      output: outputs,
      attribute: Object.entries(attributes).map(([name, value]) => attributeProto(name, value)),
    });
    return outputs;
  }

  toGraph(): onnxProto.onnx.IGraphProto {
    return {
      name: this.#name,
      node: this.#nodes,
      initializer: this.#initializers,
      input: this.#inputs,
      output: this.#outputs,
    };
  }
}
