import { readFile } from "node:fs/promises";
import onnxProto from "onnx-proto";
import { beforeAll, describe, expect, it } from "vitest";
import { OnnxSession } from "../../src/inference/session.js";
import { type LlamaFixture, llamaFixture } from "../helpers/llama-fixture.js";

const { onnx } = onnxProto;

async function graphOf(path: string) {
  return onnx.ModelProto.decode(await readFile(path));
}

function signature(values: onnxProto.onnx.IValueInfoProto[]) {
  return values.map((value) => ({
    name: value.name,
    type: value.type?.tensorType?.elemType,
    dims: value.type?.tensorType?.shape?.dim?.map((dim) => dim.dimParam || Number(dim.dimValue)),
  }));
}

describe("the Llama reward fixture", () => {
  let fixture: LlamaFixture;
  beforeAll(async () => {
    fixture = await llamaFixture();
  }, 300_000);

  it("is exported as Optimum exports decoders: three int64 inputs, last_hidden_state, dynamic axes", async () => {
    const { DataType } = onnx.TensorProto;
    const cases = [
      [fixture.model, DataType.FLOAT],
      [fixture.modelFp16, DataType.FLOAT16],
      [fixture.modelBf16Output, DataType.BFLOAT16],
      [fixture.externalModel, DataType.FLOAT],
    ] as const;
    for (const [path, outputType] of cases) {
      const model = await graphOf(path);
      expect(Number(model.opsetImport?.find((o) => !o.domain)?.version), path).toBe(17);
      const inputs = signature(model.graph!.input!);
      expect(inputs.map((i) => i.name)).toEqual(["input_ids", "attention_mask", "position_ids"]);
      for (const input of inputs) {
        expect(input.type).toBe(DataType.INT64);
        expect(input.dims).toEqual(["batch_size", "sequence_length"]);
      }
      expect(signature(model.graph!.output!)).toEqual([
        {
          name: "last_hidden_state",
          type: outputType,
          dims: ["batch_size", "sequence_length", fixture.d],
        },
      ]);
    }
  });

  it("indexes Llama 3's whole vocabulary and keeps the external variant's weights outside the graph", async () => {
    const model = await graphOf(fixture.model);
    const embedding = model.graph!.initializer!.find((t) => t.name === "embed_tokens.weight");
    expect(embedding?.dims?.map(Number)).toEqual([128256, fixture.d]);
    const external = await graphOf(fixture.externalModel);
    const outside = external.graph!.initializer!.filter(
      (t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL,
    );
    expect(outside.map((t) => t.name)).toContain("embed_tokens.weight");
    const locations = new Set(
      outside.map((t) => t.externalData!.find((e) => e.key === "location")!.value),
    );
    expect([...locations]).toEqual(["model.onnx_data"]);
  });

  it("loads in onnxruntime with exactly those inputs and outputs", async () => {
    for (const path of [fixture.model, fixture.modelFp16, fixture.externalModel]) {
      const session = await OnnxSession.create(path, { device: { kind: "cpu" }, label: "fixture" });
      expect(session.inputNames).toEqual(["input_ids", "attention_mask", "position_ids"]);
      expect(session.outputNames).toEqual(["last_hidden_state"]);
      await session.dispose();
    }
  });

  it("has a PyTorch float64 reference that is deterministic and depends on every token", async () => {
    const rewards = await fixture.pytorchRewards([
      [128000, 9906, 1917],
      [128000, 9906, 1917],
      [128000, 9906, 1918],
      [128001, 9906, 1917],
    ]);
    expect(rewards[0]).toBe(rewards[1]);
    expect(rewards[2]).not.toBeCloseTo(rewards[0]!, 6);
    expect(rewards[3]).not.toBeCloseTo(rewards[0]!, 6);
    for (const r of rewards) expect(Number.isFinite(r)).toBe(true);
  });
});
