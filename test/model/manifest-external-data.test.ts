import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModelDir } from "../../src/model/manifest.js";
import { llamaFixture, writeSequenceModelDir } from "../helpers/llama-fixture.js";

describe("backbone.data_file against the graph's own external data", () => {
  let dir: string;
  let manifest: Record<string, unknown> & { backbone: Record<string, unknown> };
  beforeAll(async () => {
    ({ dir } = await writeSequenceModelDir(await llamaFixture(), { variant: "external" }));
    manifest = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8"));
  }, 300_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const withBackbone = async (backbone: Record<string, unknown>) => {
    await writeFile(join(dir, "manifest.json"), JSON.stringify({ ...manifest, backbone }));
    return loadModelDir(dir);
  };

  it("loads when data_file is the file the graph points at", async () => {
    const model = await withBackbone(manifest.backbone);
    expect(model.backbone.dataPath).toBe(join(dir, "model.onnx_data"));
  });

  it("refuses a graph with external data and no data_file, naming the field", async () => {
    const { data_file: _, ...rest } = manifest.backbone;
    await expect(withBackbone(rest)).rejects.toThrow(/name it in backbone\.data_file/);
  });

  it("refuses a data_file the graph does not read, so data_sha256 cannot pin another file", async () => {
    await expect(
      withBackbone({ ...manifest.backbone, data_file: "tokenizer.json" }),
    ).rejects.toThrow(/backbone\.data_file is not where the graph keeps its weights/);
  });
});
