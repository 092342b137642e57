import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { access, readFile } from "node:fs/promises";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { z } from "zod";
import { readGraphInfo } from "./onnx/graph-info.js";

export const MANIFEST_FILE = "manifest.json";

export class ManifestError extends Error {
  readonly code = "MANIFEST_INVALID";
  override readonly name = "ManifestError";
}

export class ModelDirError extends Error {
  readonly code = "MODEL_DIR_INVALID";
  override readonly name = "ModelDirError";
}

export class BackboneHashMismatchError extends Error {
  readonly code = "BACKBONE_HASH_MISMATCH";
  override readonly name = "BackboneHashMismatchError";
}

const relativePath = z
  .string()
  .min(1)
  .refine((path) => !isAbsolute(path) && !path.split(/[\\/]/).includes(".."), {
    message: "expected a relative path inside the model directory (no '..', not absolute)",
  });

const tokenId = z.int().min(0);
const specialByteId = z.int().min(256, "expected an id of at least 256 (0..255 are the bytes)");

const bytesTokenizerSchema = z
  .strictObject({
    type: z.literal("bytes"),
    pad_id: specialByteId,
    bos_id: specialByteId,
    sep_id: specialByteId,
    eos_id: specialByteId,
  })
  .refine(
    (tokenizer) =>
      new Set([tokenizer.pad_id, tokenizer.bos_id, tokenizer.sep_id, tokenizer.eos_id]).size === 4,
    { message: "expected pad_id, bos_id, sep_id and eos_id to be distinct" },
  );

const hfTokenizerSchema = z.strictObject({
  type: z.literal("hf"),
  file: relativePath,
  /** Optional tokenizer_config.json next to tokenizer.json (special tokens, pad token). */
  config: relativePath.optional(),
  /** Overrides the pad id found in tokenizer.json / tokenizer_config.json. */
  pad_id: tokenId.optional(),
});

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, "expected 64 lowercase hex characters");

/** Element types a backbone output may have; the head graph casts to float32 once. */
export const OUTPUT_DTYPES = ["float32", "float16", "bfloat16"] as const;
export type OutputDtype = (typeof OUTPUT_DTYPES)[number];

const backboneSchema = z.strictObject({
  file: relativePath,
  output: z.string().min(1),
  /** Pins the graph file. */
  sha256: sha256Hex.optional(),
  /** External-data file of the graph (e.g. model.onnx_data): the graph is then loaded by path. */
  data_file: relativePath.optional(),
  /** Pins the external-data file (hashed streaming, only when given). */
  data_sha256: sha256Hex.optional(),
  /** Overrides the output element type read from the graph. */
  output_dtype: z.enum(OUTPUT_DTYPES).optional(),
});

export const manifestSchema = z
  .strictObject({
    id: z.string().min(1),
    tokenizer: z.discriminatedUnion("type", [bytesTokenizerSchema, hfTokenizerSchema]),
    max_length: z.int().min(3),
    /** "pair": (prompt, response) with the tokenizer's pair template; "sequence": one rendered text. */
    encoding: z.enum(["pair", "sequence"]).default("pair"),
    pooling: z.enum(["none", "mean", "cls", "last"]),
    /** Side the batch pads on; "last" pooling reads the last position under left padding. */
    padding_side: z.enum(["right", "left"]).default("right"),
    d: z.int().min(1),
    m: z.int().min(1),
    backbone: backboneSchema,
    head: relativePath,
    chat_template: z.string().min(1).optional(),
  })
  .refine((manifest) => manifest.pooling === "none" || manifest.m === 1, {
    message: "pooling 'mean', 'cls' and 'last' pool one view, so m must be 1",
    path: ["m"],
  })
  .refine((manifest) => manifest.padding_side === "right" || manifest.pooling !== "cls", {
    message: "pooling 'cls' reads the first position, so the batch must pad on the right",
    path: ["padding_side"],
  })
  .refine(
    (manifest) => manifest.backbone.data_sha256 === undefined || manifest.backbone.data_file,
    {
      message: "data_sha256 pins backbone.data_file, which is not given",
      path: ["backbone", "data_sha256"],
    },
  );

export type Manifest = z.infer<typeof manifestSchema>;
export type TokenizerSpec = Manifest["tokenizer"];
export type BytesTokenizerSpec = Extract<TokenizerSpec, { type: "bytes" }>;
export type HfTokenizerSpec = Extract<TokenizerSpec, { type: "hf" }>;
export type Pooling = Manifest["pooling"];
export type Encoding = Manifest["encoding"];
export type PaddingSide = Manifest["padding_side"];

export interface Backbone {
  /** Absolute path of the ONNX graph file. */
  path: string;
  /** The graph file's bytes (with external data, only the graph and its small tensors). */
  bytes: Uint8Array;
  /** Lowercase hex sha256 of `bytes`. */
  sha256: string;
  /** Absolute path of the external-data file, when the manifest names one. */
  dataPath?: string;
  /**
   * What a session is created from: the bytes, or the path when the weights are external
   * (onnxruntime resolves the data file next to the graph).
   */
  source: Uint8Array | string;
}

export interface ModelDirectory {
  /** Absolute path of the model directory. */
  dir: string;
  manifest: Manifest;
  backbone: Backbone;
  /** Absolute path of the default head directory. */
  headDir: string;
}

/** Validates parsed manifest JSON; `source` names the file in error messages. */
export function parseManifest(json: unknown, source: string): Manifest {
  const result = manifestSchema.safeParse(json);
  if (result.success) return result.data;
  const problems = result.error.issues.map(
    (issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`,
  );
  throw new ManifestError(`${source}: invalid manifest: ${problems.join("; ")}`);
}

/** Resolves a manifest-relative path against the model directory. */
export function resolveModelPath(dir: string, relative: string): string {
  return join(resolve(dir), relative);
}

export async function readManifest(dir: string): Promise<Manifest> {
  const path = resolveModelPath(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new ModelDirError(`${path}: cannot read the manifest: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ManifestError(`${path}: not valid JSON: ${(error as Error).message}`);
  }
  return parseManifest(json, path);
}

async function readBackbone(dir: string, manifest: Manifest): Promise<Backbone> {
  const path = resolveModelPath(dir, manifest.backbone.file);
  let bytes: Uint8Array;
  try {
    const buffer = await readFile(path);
    bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  } catch (error) {
    throw new ModelDirError(
      `${path}: cannot read the backbone named by backbone.file: ${(error as Error).message}`,
    );
  }
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  const expected = manifest.backbone.sha256;
  if (expected !== undefined && expected !== sha256) {
    throw new BackboneHashMismatchError(
      `${path}: sha256 is ${sha256} but the manifest expects ${expected}`,
    );
  }
  const dataFile = manifest.backbone.data_file;
  const dataPath = dataFile === undefined ? undefined : resolveModelPath(dir, dataFile);
  assertDataFileIsTheGraphs(path, bytes, dataPath);
  if (dataFile === undefined || dataPath === undefined)
    return { path, bytes, sha256, source: bytes };
  await assertReadable(dataPath, "backbone.data_file");
  const expectedData = manifest.backbone.data_sha256;
  if (expectedData !== undefined) {
    const actual = await hashFile(dataPath);
    if (actual !== expectedData) {
      throw new BackboneHashMismatchError(
        `${dataPath}: sha256 is ${actual} but the manifest expects ${expectedData} (backbone.data_sha256)`,
      );
    }
  }
  return { path, bytes, sha256, dataPath, source: path };
}

/**
 * backbone.data_file must name the file the graph's initializers point at (onnxruntime reads that
 * one, relative to the graph), so that data_sha256 pins what is loaded; a graph with external data
 * needs data_file, because a graph held in memory has no directory to find it in.
 */
function assertDataFileIsTheGraphs(
  graphPath: string,
  bytes: Uint8Array,
  dataPath: string | undefined,
): void {
  let locations: string[];
  try {
    locations = readGraphInfo(bytes, graphPath).externalDataFiles;
  } catch {
    return; // not an ONNX graph we can read: onnxruntime says why when it loads it
  }
  const graphDir = dirname(graphPath);
  const referenced = locations.map((location) => resolve(graphDir, location));
  if (dataPath === undefined) {
    if (referenced.length === 0) return;
    throw new ModelDirError(
      `${graphPath}: the graph keeps its weights in ${referenced.join(", ")}; name it in backbone.data_file`,
    );
  }
  if (referenced.length !== 1 || referenced[0] !== resolve(dataPath)) {
    throw new ModelDirError(
      `${dataPath}: backbone.data_file is not where the graph keeps its weights (${referenced.length === 0 ? "it has no external data" : referenced.join(", ")})`,
    );
  }
}

/** sha256 of a file of any size, read as a stream. */
async function hashFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

async function assertReadable(path: string, field: string): Promise<void> {
  try {
    await access(path);
  } catch {
    throw new ModelDirError(`${path}: missing; it is named by the manifest field ${field}`);
  }
}

/**
 * Reads and validates a model directory: its manifest, the backbone bytes (checked against
 * backbone.sha256 when the manifest pins one) and the presence of the tokenizer and head. The
 * trainer, which writes the head, passes `needsHead: false`.
 */
export async function loadModelDir(
  dir: string,
  options: { needsHead?: boolean } = {},
): Promise<ModelDirectory> {
  const absolute = resolve(dir);
  const manifest = await readManifest(absolute);
  const headDir = resolveModelPath(absolute, manifest.head);
  if (options.needsHead !== false) await assertReadable(headDir, "head");
  if (manifest.tokenizer.type === "hf") {
    await assertReadable(resolveModelPath(absolute, manifest.tokenizer.file), "tokenizer.file");
    if (manifest.tokenizer.config !== undefined) {
      await assertReadable(
        resolveModelPath(absolute, manifest.tokenizer.config),
        "tokenizer.config",
      );
    }
  }
  const backbone = await readBackbone(absolute, manifest);
  return { dir: absolute, manifest, backbone, headDir };
}
