import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readHead } from "../../src/model/head-file.js";
import { loadModelDir, type Manifest, parseManifest } from "../../src/model/manifest.js";

const DEFAULT_MODEL_DIR = join(import.meta.dirname, "..", "..", "models", "default");
const BACKBONE_BYTES = new TextEncoder().encode("not really onnx, but bytes to hash");
const BACKBONE_SHA256 = createHash("sha256").update(BACKBONE_BYTES).digest("hex");

const VALID = {
  id: "test-model",
  tokenizer: { type: "bytes", pad_id: 256, bos_id: 257, sep_id: 258, eos_id: 259 },
  max_length: 64,
  pooling: "none",
  d: 8,
  m: 2,
  backbone: { file: "backbone.onnx", output: "features" },
  head: "head",
};

let root: string;
let counter = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "sharelora-manifest-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function modelDir(
  manifest: unknown,
  files: Record<string, Uint8Array | string> = { "backbone.onnx": BACKBONE_BYTES },
  headDir: string | null = "head",
): Promise<string> {
  const dir = join(root, `model-${counter++}`);
  await mkdir(dir, { recursive: true });
  const text = typeof manifest === "string" ? manifest : JSON.stringify(manifest);
  await writeFile(join(dir, "manifest.json"), text);
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
  if (headDir !== null) await mkdir(join(dir, headDir), { recursive: true });
  return dir;
}

async function loadError(dir: string): Promise<{ code: string; message: string }> {
  try {
    await loadModelDir(dir);
  } catch (error) {
    return error as { code: string; message: string };
  }
  throw new Error("expected loadModelDir to fail");
}

function parseError(json: unknown): string {
  try {
    parseManifest(json, "/models/x/manifest.json");
  } catch (error) {
    expect((error as { code: string }).code).toBe("MANIFEST_INVALID");
    return (error as Error).message;
  }
  throw new Error("expected parseManifest to fail");
}

describe("parseManifest", () => {
  it("accepts the committed default manifest", async () => {
    const path = join(DEFAULT_MODEL_DIR, "manifest.json");
    const manifest = parseManifest(JSON.parse(await readFile(path, "utf8")), path);
    const expected: Manifest = {
      id: "sharelora-default-bytes-v2",
      tokenizer: { type: "bytes", pad_id: 256, bos_id: 257, sep_id: 258, eos_id: 259 },
      max_length: 512,
      encoding: "pair",
      pooling: "none",
      padding_side: "right",
      d: 341,
      m: 2,
      backbone: { file: "backbone.onnx", output: "features" },
      head: "head",
    };
    expect(manifest).toEqual(expected);
  });

  it("accepts an hf tokenizer with mean pooling, a pinned sha256 and a chat template", () => {
    const manifest = parseManifest(
      {
        ...VALID,
        tokenizer: { type: "hf", file: "tokenizer.json", config: "tokenizer_config.json" },
        pooling: "mean",
        m: 1,
        d: 384,
        backbone: { file: "model.onnx", output: "last_hidden_state", sha256: BACKBONE_SHA256 },
        chat_template: "{% for m in messages %}{{ m.content }}{% endfor %}",
      },
      "manifest.json",
    );
    expect(manifest.tokenizer).toEqual({
      type: "hf",
      file: "tokenizer.json",
      config: "tokenizer_config.json",
    });
    expect(manifest.backbone.sha256).toBe(BACKBONE_SHA256);
  });

  it("names the file and the field of each problem", () => {
    const { id: _id, ...withoutId } = VALID;
    expect(parseError(withoutId)).toMatch(/^\/models\/x\/manifest\.json: invalid manifest: id: /);
    expect(parseError({ ...VALID, pooling: "max" })).toMatch(/pooling: /);
    expect(parseError({ ...VALID, pooling: "mean" })).toMatch(
      /m: pooling 'mean', 'cls' and 'last' pool one view, so m must be 1/,
    );
    expect(parseError({ ...VALID, pooling: "cls", m: 3 })).toMatch(/m: pooling/);
    expect(parseError({ ...VALID, max_length: 2 })).toMatch(/max_length: /);
    expect(parseError({ ...VALID, d: 2.5 })).toMatch(/d: /);
    expect(parseError({ ...VALID, extra: 1 })).toMatch(/extra/);
    expect(parseError([])).toMatch(/\(root\): /);
  });

  it("checks the tokenizer", () => {
    const bytes = VALID.tokenizer;
    expect(parseError({ ...VALID, tokenizer: { ...bytes, pad_id: 12 } })).toMatch(
      /tokenizer\.pad_id: expected an id of at least 256/,
    );
    expect(parseError({ ...VALID, tokenizer: { ...bytes, eos_id: 256 } })).toMatch(
      /tokenizer: expected pad_id, bos_id, sep_id and eos_id to be distinct/,
    );
    expect(parseError({ ...VALID, tokenizer: { type: "sentencepiece" } })).toMatch(/tokenizer/);
    expect(parseError({ ...VALID, tokenizer: { type: "hf" } })).toMatch(/tokenizer\.file: /);
  });

  it("keeps every path inside the model directory", () => {
    expect(parseError({ ...VALID, head: "/etc" })).toMatch(
      /head: expected a relative path inside the model directory/,
    );
    expect(parseError({ ...VALID, head: "../other/head" })).toMatch(/head: expected a relative/);
    expect(
      parseError({ ...VALID, backbone: { file: "a/../../b.onnx", output: "features" } }),
    ).toMatch(/backbone\.file: expected a relative/);
    expect(parseError({ ...VALID, head: "" })).toMatch(/head: /);
  });

  it("checks the backbone sha256 format", () => {
    const backbone = { ...VALID.backbone, sha256: BACKBONE_SHA256.toUpperCase() };
    expect(parseError({ ...VALID, backbone })).toMatch(
      /backbone\.sha256: expected 64 lowercase hex characters/,
    );
  });
});

describe("loadModelDir", () => {
  it("loads the default model directory, whose head fits its manifest", async () => {
    const model = await loadModelDir(DEFAULT_MODEL_DIR);
    expect(model.backbone.sha256).toBe(
      createHash("sha256")
        .update(await readFile(model.backbone.path))
        .digest("hex"),
    );
    const head = await readHead(model.headDir);
    expect([head.d, head.m, head.modelId]).toEqual([
      model.manifest.d,
      model.manifest.m,
      model.manifest.id,
    ]);
  });

  it("reads the manifest and the backbone bytes and hashes them", async () => {
    const dir = await modelDir(VALID);
    const model = await loadModelDir(dir);
    expect(model.dir).toBe(dir);
    expect(model.manifest.id).toBe("test-model");
    expect(model.headDir).toBe(join(dir, "head"));
    expect(model.backbone.path).toBe(join(dir, "backbone.onnx"));
    expect(model.backbone.bytes).toEqual(new Uint8Array(BACKBONE_BYTES));
    expect(model.backbone.sha256).toBe(BACKBONE_SHA256);
  });

  it("accepts a matching pinned sha256 and rejects a different one", async () => {
    const pinned = await modelDir({
      ...VALID,
      backbone: { ...VALID.backbone, sha256: BACKBONE_SHA256 },
    });
    expect((await loadModelDir(pinned)).backbone.sha256).toBe(BACKBONE_SHA256);
    const wrong = "0".repeat(64);
    const error = await loadError(
      await modelDir({ ...VALID, backbone: { ...VALID.backbone, sha256: wrong } }),
    );
    expect(error.code).toBe("BACKBONE_HASH_MISMATCH");
    expect(error.message).toContain(
      `sha256 is ${BACKBONE_SHA256} but the manifest expects ${wrong}`,
    );
  });

  it("reports missing files with the manifest field that names them", async () => {
    const noManifest = join(root, "empty");
    await mkdir(noManifest, { recursive: true });
    const missingManifest = await loadError(noManifest);
    expect(missingManifest.code).toBe("MODEL_DIR_INVALID");
    expect(missingManifest.message).toMatch(/manifest\.json: cannot read the manifest/);

    const noBackbone = await loadError(await modelDir(VALID, {}));
    expect(noBackbone.code).toBe("MODEL_DIR_INVALID");
    expect(noBackbone.message).toMatch(
      /backbone\.onnx: cannot read the backbone named by backbone\.file/,
    );

    const noHead = await loadError(await modelDir(VALID, undefined, null));
    expect(noHead.code).toBe("MODEL_DIR_INVALID");
    expect(noHead.message).toMatch(/head: missing; it is named by the manifest field head/);
    // The trainer reads a model directory before it has a head: it writes one.
    const forTraining = await loadModelDir(await modelDir(VALID, undefined, null), {
      needsHead: false,
    });
    expect(forTraining.manifest.id).toBe(VALID.id);

    const hf = { ...VALID, tokenizer: { type: "hf", file: "tokenizer.json" } };
    const noTokenizer = await loadError(await modelDir(hf));
    expect(noTokenizer.code).toBe("MODEL_DIR_INVALID");
    expect(noTokenizer.message).toMatch(/tokenizer\.json: missing; .* field tokenizer\.file/);
  });

  it("reports malformed JSON and invalid manifests with the file path", async () => {
    const dir = await modelDir("{ not json");
    const malformed = await loadError(dir);
    expect(malformed.code).toBe("MANIFEST_INVALID");
    expect(malformed.message).toContain(join(dir, "manifest.json"));
    const invalid = await loadError(await modelDir({ ...VALID, d: 0 }));
    expect(invalid.code).toBe("MANIFEST_INVALID");
    expect(invalid.message).toMatch(/manifest\.json: invalid manifest: d: /);
  });
});
