import { createHash } from "node:crypto";
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readHead } from "../../src/model/head-file.js";
import { importModel } from "../../src/model/import-model.js";
import { loadModelDir } from "../../src/model/manifest.js";
import { decodeSafetensors, encodeSafetensors } from "../../src/model/safetensors.js";
import { LLAMA3_TOKENIZER_DIR, type LlamaFixture, llamaFixture } from "../helpers/llama-fixture.js";

const sha256 = async (path: string) =>
  createHash("sha256")
    .update(await readFile(path))
    .digest("hex");

describe("importModel", () => {
  let fixture: LlamaFixture;
  let scratch: string;
  beforeAll(async () => {
    fixture = await llamaFixture();
    scratch = await mkdtemp(join(tmpdir(), "import-model-"));
  }, 300_000);
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it("writes a loadable model directory: d from the graph, the tokenizer, the chat template, a pinned graph", async () => {
    const out = join(scratch, "rm");
    const imported = await importModel({
      onnx: fixture.model,
      tokenizer: LLAMA3_TOKENIZER_DIR,
      out,
      scoreHead: fixture.scoreHead,
      pooling: "last",
    });
    expect(imported.d).toBe(fixture.d);
    const model = await loadModelDir(out);
    expect(model.manifest).toMatchObject({
      id: "rm",
      d: fixture.d,
      m: 1,
      pooling: "last",
      encoding: "sequence",
      tokenizer: { type: "hf", file: "tokenizer.json", config: "tokenizer_config.json" },
      backbone: { file: "model.onnx", output: "last_hidden_state" },
      head: "head",
    });
    expect(model.manifest.backbone.sha256).toBe(await sha256(fixture.model));
    for (const file of ["tokenizer.json", "tokenizer_config.json"]) {
      const copied = await readFile(join(out, file));
      expect(copied.equals(await readFile(join(LLAMA3_TOKENIZER_DIR, file))), file).toBe(true);
    }
    const config = JSON.parse(await readFile(join(out, "tokenizer_config.json"), "utf8"));
    expect(config.chat_template).toContain("<|start_header_id|>");
  });

  it("leaves the export in place when --out reaches its own directory through a link", async () => {
    const exported = join(scratch, "export");
    await mkdir(exported, { recursive: true });
    await copyFile(fixture.externalModel, join(exported, "model.onnx"));
    await copyFile(fixture.externalData, join(exported, "model.onnx_data"));
    const before = await sha256(join(exported, "model.onnx_data"));
    const alias = join(scratch, "export-alias");
    await symlink(exported, alias);
    await importModel({
      onnx: join(exported, "model.onnx"),
      tokenizer: LLAMA3_TOKENIZER_DIR,
      out: alias,
      scoreHead: fixture.scoreHead,
      pooling: "last",
    });
    expect(await sha256(join(exported, "model.onnx_data"))).toBe(before);
    expect((await loadModelDir(alias)).manifest.backbone.data_file).toBe("model.onnx_data");
  });

  it("writes nothing when the external data file is missing", async () => {
    const exported = join(scratch, "export-no-data");
    await mkdir(exported, { recursive: true });
    await copyFile(fixture.externalModel, join(exported, "model.onnx"));
    const out = join(scratch, "rm-no-data");
    await expect(
      importModel({
        onnx: join(exported, "model.onnx"),
        tokenizer: LLAMA3_TOKENIZER_DIR,
        out,
        pooling: "last",
      }),
    ).rejects.toThrow(/external data file .* is missing/);
    await expect(stat(out)).rejects.toThrow();
  });

  it("makes the score head Θ0 and b0 bit for bit, with B = 0 recorded as basis none", async () => {
    const out = join(scratch, "rm-head");
    await importModel({
      onnx: fixture.model,
      tokenizer: LLAMA3_TOKENIZER_DIR,
      out,
      scoreHead: fixture.scoreHead,
      rank: 3,
    });
    const head = await readHead(join(out, "head"));
    const stored = decodeSafetensors(await readFile(fixture.scoreHead)).tensors["score.weight"]!;
    expect({ d: head.d, m: head.m, k: head.k, b0: head.b0 }).toEqual({
      d: fixture.d,
      m: 1,
      k: 3,
      b0: 0,
    });
    expect(Buffer.from(head.theta0.buffer, head.theta0.byteOffset, head.theta0.byteLength)).toEqual(
      Buffer.from(stored.data.buffer, stored.data.byteOffset, stored.data.byteLength),
    );
    expect(head.B.every((x) => x === 0)).toBe(true);
    expect(head.basis).toBe("none");
    expect(head.modelId).toBe("rm-head");
  });

  it("brings the external data file along and pins it", async () => {
    const out = join(scratch, "rm-external");
    const imported = await importModel({
      onnx: fixture.externalModel,
      tokenizer: LLAMA3_TOKENIZER_DIR,
      out,
      scoreHead: fixture.scoreHead,
    });
    expect(imported.graph.externalDataFiles).toEqual(["model.onnx_data"]);
    expect(imported.manifest["backbone"]).toEqual({
      file: "model.onnx",
      output: "last_hidden_state",
      sha256: await sha256(fixture.externalModel),
      data_file: "model.onnx_data",
      data_sha256: await sha256(fixture.externalData),
    });
    expect((await stat(join(out, "model.onnx_data"))).size).toBe(
      (await stat(fixture.externalData)).size,
    );
    const model = await loadModelDir(out);
    expect(model.backbone.dataPath).toBe(join(out, "model.onnx_data"));
    expect(model.backbone.source).toBe(join(out, "model.onnx"));
  });

  it("imports in place: an export directory that already holds the graph and the tokenizer", async () => {
    const out = join(scratch, "in-place");
    await mkdir(out, { recursive: true });
    await copyFile(fixture.model, join(out, "model.onnx"));
    for (const file of ["tokenizer.json", "tokenizer_config.json"]) {
      await copyFile(join(LLAMA3_TOKENIZER_DIR, file), join(out, file));
    }
    await importModel({
      onnx: join(out, "model.onnx"),
      tokenizer: out,
      out,
      scoreHead: fixture.scoreHead,
    });
    expect(await sha256(join(out, "model.onnx"))).toBe(await sha256(fixture.model));
    const model = await loadModelDir(out);
    expect(model.manifest.backbone.sha256).toBe(await sha256(fixture.model));
    expect((await stat(join(out, "tokenizer.json"))).size).toBe(
      (await stat(join(LLAMA3_TOKENIZER_DIR, "tokenizer.json"))).size,
    );
  });

  it("refuses what it cannot make sense of, saying what it found", async () => {
    const base = { onnx: fixture.model, tokenizer: LLAMA3_TOKENIZER_DIR };
    await expect(
      importModel({ ...base, out: join(scratch, "x1"), output: "logits" }),
    ).rejects.toThrow(/no output logits; the graph's outputs are last_hidden_state/);
    const wrong = join(scratch, "wrong-d.safetensors");
    await writeFile(
      wrong,
      encodeSafetensors({
        "score.weight": {
          dtype: "F32",
          shape: [1, fixture.d + 1],
          data: new Float32Array(fixture.d + 1),
        },
      }),
    );
    await expect(
      importModel({ ...base, out: join(scratch, "x2"), scoreHead: wrong }),
    ).rejects.toThrow(
      new RegExp(`has d = ${fixture.d} but the score head .* has ${fixture.d + 1} weights`),
    );
    await expect(
      importModel({ ...base, out: join(scratch, "x3"), tokenizer: scratch }),
    ).rejects.toThrow(/no tokenizer\.json/);
    await expect(
      importModel({ ...base, out: join(scratch, "x4"), rank: fixture.d + 1 }),
    ).rejects.toThrow(/--rank: expected an integer in \[1, d = 32\]/);
  });
});
