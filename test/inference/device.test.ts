import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseDevice } from "../../src/inference/device.js";
import { OnnxBackend } from "../../src/inference/onnx-backend.js";
import { cudaBundled } from "../../src/inference/session.js";
import { readHead } from "../../src/model/head-file.js";
import { loadModelDir } from "../../src/model/manifest.js";

describe("execution providers", () => {
  it("parses device settings and rejects others with a TypeError", () => {
    expect(parseDevice("cpu")).toEqual({ candidates: [{ kind: "cpu" }], strict: true });
    expect(parseDevice("cuda:1")).toEqual({
      candidates: [{ kind: "cuda", deviceId: 1 }],
      strict: true,
    });
    expect(parseDevice("auto").strict).toBe(false);
    expect(() => parseDevice("tpu")).toThrow(TypeError);
  });

  it.skipIf(cudaBundled())(
    "auto falls back to the CPU and says why; cuda fails with how to install it",
    async () => {
      const model = await loadModelDir(join(import.meta.dirname, "..", "..", "models", "default"));
      const head = await readHead(model.headDir);
      const options = {
        backbone: model.backbone.bytes,
        backboneOutput: model.manifest.backbone.output,
        pooling: model.manifest.pooling,
        head,
        padId: 256,
      };
      const messages: string[] = [];
      const auto = await OnnxBackend.create({
        ...options,
        device: "auto",
        onFallback: (m) => messages.push(m),
      });
      expect(auto.provider).toBe("cpu");
      expect(messages.join(" ")).toMatch(/CUDA/);
      await auto.dispose();
      await expect(OnnxBackend.create({ ...options, device: "cuda" })).rejects.toThrow(
        /ONNXRUNTIME_NODE_INSTALL=cuda12/,
      );
    },
  );
});
