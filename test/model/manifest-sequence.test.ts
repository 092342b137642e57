import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModelDir, parseManifest } from "../../src/model/manifest.js";

const GRAPH = new TextEncoder().encode("a graph whose weights live elsewhere");
const DATA = new TextEncoder().encode("the weights");
const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

const SEQUENCE = {
  id: "llama-reward",
  tokenizer: { type: "hf", file: "tokenizer.json" },
  max_length: 2048,
  encoding: "sequence",
  pooling: "last",
  d: 4096,
  m: 1,
  backbone: { file: "model.onnx", output: "last_hidden_state", data_file: "model.onnx_data" },
  head: "head",
};

function problems(json: unknown): string {
  try {
    parseManifest(json, "manifest.json");
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected parseManifest to fail");
}

let root: string;
let counter = 0;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "sharelora-manifest-seq-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function modelDir(manifest: unknown, withData = true): Promise<string> {
  const dir = join(root, `model-${counter++}`);
  await mkdir(join(dir, "head"), { recursive: true });
  await writeFile(join(dir, "manifest.json"), JSON.stringify(manifest));
  await writeFile(join(dir, "tokenizer.json"), "{}");
  await writeFile(join(dir, "model.onnx"), GRAPH);
  if (withData) await writeFile(join(dir, "model.onnx_data"), DATA);
  return dir;
}

describe("manifest fields for decoder reward models", () => {
  it("defaults to pair encoding and right padding; reads sequence, last, left and output_dtype", () => {
    const { encoding: _e, ...pair } = SEQUENCE;
    const defaults = parseManifest({ ...pair, pooling: "mean" }, "m");
    expect(defaults.encoding).toBe("pair");
    expect(defaults.padding_side).toBe("right");
    const manifest = parseManifest(
      {
        ...SEQUENCE,
        padding_side: "left",
        backbone: { ...SEQUENCE.backbone, output_dtype: "bfloat16", data_sha256: sha(DATA) },
      },
      "m",
    );
    expect(manifest.encoding).toBe("sequence");
    expect(manifest.pooling).toBe("last");
    expect(manifest.padding_side).toBe("left");
    expect(manifest.backbone.output_dtype).toBe("bfloat16");
  });

  it("names the field of each new problem", () => {
    expect(problems({ ...SEQUENCE, encoding: "chat" })).toMatch(/encoding:/);
    expect(problems({ ...SEQUENCE, m: 2 })).toMatch(/m: pooling .*'last' pool one view/);
    expect(problems({ ...SEQUENCE, pooling: "cls", padding_side: "left" })).toMatch(
      /padding_side: pooling 'cls' reads the first position/,
    );
    expect(
      problems({ ...SEQUENCE, backbone: { ...SEQUENCE.backbone, output_dtype: "int8" } }),
    ).toMatch(/backbone\.output_dtype:/);
    expect(
      problems({
        ...SEQUENCE,
        backbone: { file: "model.onnx", output: "last_hidden_state", data_sha256: sha(DATA) },
      }),
    ).toMatch(/backbone\.data_sha256: data_sha256 pins backbone\.data_file/);
    expect(
      problems({ ...SEQUENCE, backbone: { ...SEQUENCE.backbone, data_file: "../x.onnx_data" } }),
    ).toMatch(/backbone\.data_file: expected a relative path/);
  });

  it("loads a graph with external data by path, hashing the graph and, when pinned, the data", async () => {
    const dir = await modelDir({
      ...SEQUENCE,
      backbone: { ...SEQUENCE.backbone, sha256: sha(GRAPH), data_sha256: sha(DATA) },
    });
    const model = await loadModelDir(dir);
    expect(model.backbone.source).toBe(join(dir, "model.onnx"));
    expect(model.backbone.dataPath).toBe(join(dir, "model.onnx_data"));
    expect(model.backbone.sha256).toBe(sha(GRAPH));
    const inMemory = await loadModelDir(
      await modelDir({ ...SEQUENCE, backbone: { file: "model.onnx", output: "x" } }),
    );
    expect(inMemory.backbone.source).toBeInstanceOf(Uint8Array);
  });

  it("refuses a data file that is missing or does not match its pin", async () => {
    const missing = await modelDir(SEQUENCE, false);
    await expect(loadModelDir(missing)).rejects.toMatchObject({
      code: "MODEL_DIR_INVALID",
      message: expect.stringMatching(/model\.onnx_data: missing; .*backbone\.data_file/),
    });
    const wrong = await modelDir({
      ...SEQUENCE,
      backbone: { ...SEQUENCE.backbone, data_sha256: sha(GRAPH) },
    });
    await expect(loadModelDir(wrong)).rejects.toMatchObject({
      code: "BACKBONE_HASH_MISMATCH",
      message: expect.stringMatching(/backbone\.data_sha256/),
    });
  });
});
