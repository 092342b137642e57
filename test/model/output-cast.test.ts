import { readFile } from "node:fs/promises";
import onnxProto from "onnx-proto";
import { beforeAll, describe, expect, it } from "vitest";
import { castOutputToFloat32, graphOutputTypes } from "../../src/model/onnx/output-cast.js";
import { type LlamaFixture, llamaFixture } from "../helpers/llama-fixture.js";

const { onnx } = onnxProto;

describe("reading and casting graph outputs at the wire level", () => {
  let fixture: LlamaFixture;
  beforeAll(async () => {
    fixture = await llamaFixture();
  }, 300_000);

  it("reads each output's element type without decoding the tensors", async () => {
    const types = async (path: string) => graphOutputTypes(new Uint8Array(await readFile(path)));
    expect(await types(fixture.model)).toEqual(new Map([["last_hidden_state", "float32"]]));
    expect(await types(fixture.modelFp16)).toEqual(new Map([["last_hidden_state", "float16"]]));
    expect(await types(fixture.modelBf16Output)).toEqual(
      new Map([["last_hidden_state", "bfloat16"]]),
    );
    expect(await types(fixture.externalModel)).toEqual(new Map([["last_hidden_state", "float32"]]));
  });

  it("replaces a bfloat16 output by its Cast to float32, keeping the shape and every other field", async () => {
    const bytes = new Uint8Array(await readFile(fixture.modelBf16Output));
    const { bytes: cast, output } = castOutputToFloat32(bytes, "last_hidden_state");
    expect(output).toBe("last_hidden_state/sharelora_float32");
    const before = onnx.ModelProto.decode(bytes);
    const after = onnx.ModelProto.decode(cast);
    expect(after.graph!.output!.map((o) => o.name)).toEqual([output]);
    const type = after.graph!.output![0]!.type!.tensorType!;
    expect(type.elemType).toBe(onnx.TensorProto.DataType.FLOAT);
    expect(type.shape).toEqual(before.graph!.output![0]!.type!.tensorType!.shape);
    const last = after.graph!.node!.at(-1)!;
    expect([last.opType, last.input, last.output]).toEqual([
      "Cast",
      ["last_hidden_state"],
      [output],
    ]);
    expect(Number(last.attribute![0]!.i)).toBe(onnx.TensorProto.DataType.FLOAT);
    expect(after.graph!.node!.length).toBe(before.graph!.node!.length + 1);
    expect(after.graph!.initializer!.length).toBe(before.graph!.initializer!.length);
    expect(after.opsetImport).toEqual(before.opsetImport);
    expect(after.graph!.input).toEqual(before.graph!.input);
  });

  it("names what is wrong with a graph it cannot rewrite", async () => {
    const bytes = new Uint8Array(await readFile(fixture.model));
    expect(() => castOutputToFloat32(bytes, "logits")).toThrow(/no output "logits"/);
    expect(() => graphOutputTypes(new TextEncoder().encode("not onnx"))).toThrow(
      /not an ONNX model/,
    );
  });
});
