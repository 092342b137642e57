import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AppState } from "../../src/http/app-state.js";
import { createTokenizer } from "../../src/inference/create-tokenizer.js";
import { OnnxBackend } from "../../src/inference/onnx-backend.js";
import { WorkerBackend } from "../../src/inference/worker-backend.js";
import { readHead } from "../../src/model/head-file.js";
import { loadModelDir } from "../../src/model/manifest.js";
import type { Runtime } from "../../src/runtime.js";

describe("WorkerBackend", () => {
  it("returns exactly what the in-thread backend returns, and reports itself unhealthy once gone", async () => {
    const model = await loadModelDir(join(import.meta.dirname, "..", "..", "models", "default"));
    const head = await readHead(model.headDir);
    const tokenizer = await createTokenizer(model.manifest, model.dir);
    const options = {
      backbone: model.backbone.bytes,
      backboneOutput: model.manifest.backbone.output,
      pooling: model.manifest.pooling,
      head,
      padId: tokenizer.padId,
      device: "cpu",
    };
    const batch = [
      tokenizer.encodePair("hi", "hello there", 512),
      tokenizer.encodePair("a longer prompt", "and a response with - a list\n- of things", 512),
    ];
    const inThread = await OnnxBackend.create(options);
    const worker = await WorkerBackend.create(options);
    const expected = await inThread.embed(batch);
    const got = await worker.embed(batch);
    expect(worker.provider).toBe("cpu");
    expect(got.map((f) => f.base)).toEqual(expected.map((f) => f.base));
    expect(got.map((f) => Array.from(f.proj))).toEqual(expected.map((f) => Array.from(f.proj)));
    expect(worker.healthy()).toBe(true);
    await worker.dispose();
    await inThread.dispose();
    expect(worker.healthy()).toBe(false);
    await expect(worker.embed(batch)).rejects.toThrow();

    const state = new AppState();
    state.runtime = { backend: worker } as unknown as Runtime;
    expect(() => state.require()).toThrow(/restarted/);
  });
});
