/**
 * `sharelora import-model`: a model directory from an ONNX export of a reward model, its
 * tokenizer directory and (optionally) its own linear score head. d is read from the graph's
 * output (and checked against the score head), never typed by hand.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { copyFile, link, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, normalize, resolve } from "node:path";
import { computeHeadHash, type Head, type HeadTensors, writeHead } from "./head-file.js";
import { MANIFEST_FILE, parseManifest } from "./manifest.js";
import { type GraphInfo, type GraphValue, readGraphInfo } from "./onnx/graph-info.js";
import { readScoreHead, type ScoreHead } from "./score-head.js";

export type ImportPooling = "last" | "mean" | "cls";

export interface ImportModelOptions {
  /** The ONNX graph file (its external data files are found from the graph). */
  onnx: string;
  /** A Hugging Face tokenizer directory: tokenizer.json, tokenizer_config.json… */
  tokenizer: string;
  out: string;
  /** safetensors file, shard or model.safetensors.index.json holding the score head. */
  scoreHead?: string | undefined;
  scoreTensor?: string | undefined;
  pooling?: ImportPooling | undefined;
  output?: string | undefined;
  id?: string | undefined;
  maxLength?: number | undefined;
  /** Columns of B (default DEFAULT_IMPORT_RANK). */
  rank?: number | undefined;
}

export interface ImportedModel {
  dir: string;
  manifest: Record<string, unknown>;
  d: number;
  /** The written head: Θ0, b0 from the score head (else 0) and B = 0 ("none"). */
  head: Head;
  scoreHead: ScoreHead | null;
  graph: GraphInfo;
  /** Things the user should know (on stderr from the command). */
  notes: string[];
}

export class ImportModelError extends Error {
  readonly code = "IMPORT_MODEL_INVALID";
  override readonly name = "ImportModelError";
}

export const DEFAULT_IMPORT_RANK = 2;
/** max_length when the tokenizer's model_max_length is absent or a "no limit" placeholder. */
export const DEFAULT_IMPORT_MAX_LENGTH = 4096;
export const HEAD_DIR = "head";
const FLOAT_OUTPUTS = ["float32", "float16", "bfloat16"];
const TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"];
/** Newer transformers keep the template next to tokenizer_config.json rather than in it. */
const TEMPLATE_FILE = "chat_template.jinja";

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Whether two paths name one file, through links and aliases (same device and inode). */
async function sameFile(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([stat(a).catch(() => null), stat(b).catch(() => null)]);
  return x !== null && y !== null && x.dev === y.dev && x.ino === y.ino;
}

/** A hard link where the file system allows one (a multi-GB export is not duplicated), else a copy. */
async function place(from: string, to: string): Promise<void> {
  // Importing into the export's own directory (by any path): the file is already where it belongs,
  // and removing `to` would remove the export itself.
  if (resolve(from) === resolve(to) || (await sameFile(from, to))) return;
  await mkdir(dirname(to), { recursive: true });
  await rm(to, { force: true });
  try {
    await link(from, to);
  } catch {
    await copyFile(from, to);
  }
}

function featureDim(graph: GraphInfo, outputName: string, source: string): GraphValue {
  const output = graph.outputs.find((o) => o.name === outputName);
  if (output === undefined) {
    throw new ImportModelError(
      `${source}: no output ${outputName}; the graph's outputs are ${graph.outputs.map((o) => o.name).join(", ")} (choose one with --output)`,
    );
  }
  if (output.elemType !== null && !FLOAT_OUTPUTS.includes(output.elemType)) {
    throw new ImportModelError(
      `${source}: output ${outputName} is ${output.elemType}; expected ${FLOAT_OUTPUTS.join(", ")}`,
    );
  }
  if (output.dims !== null && output.dims.length !== 3) {
    throw new ImportModelError(
      `${source}: output ${outputName} has ${output.dims.length} dimensions [${output.dims}]; expected [batch, seq, d] (a feature-extraction export)`,
    );
  }
  return output;
}

function resolveD(output: GraphValue, scoreHead: ScoreHead | null, source: string): number {
  const last = output.dims?.[2];
  const fromGraph = typeof last === "number" ? last : undefined;
  const fromHead = scoreHead?.weight.length;
  if (fromGraph !== undefined && fromHead !== undefined && fromGraph !== fromHead) {
    throw new ImportModelError(
      `${source}: output ${output.name} has d = ${fromGraph} but the score head ${scoreHead!.file} has ${fromHead} weights`,
    );
  }
  const d = fromGraph ?? fromHead;
  if (d === undefined) {
    throw new ImportModelError(
      `${source}: output ${output.name} does not fix its last dimension (${String(last)}) and no --score-head gives d`,
    );
  }
  return d;
}

function safeRelative(location: string, source: string): string {
  const normal = normalize(location);
  if (isAbsolute(normal) || normal.split(/[\\/]/).includes("..")) {
    throw new ImportModelError(
      `${source}: external data location ${location} is outside the graph's directory`,
    );
  }
  return normal;
}

interface TokenizerFiles {
  config: boolean;
  /** Whether tokenizer_config.json holds a chat_template. */
  configTemplate: boolean;
  /** The template of chat_template.jinja, when the config has none. */
  template: string | undefined;
  modelMaxLength: number | undefined;
}

async function copyTokenizer(from: string, out: string): Promise<TokenizerFiles> {
  if (!(await exists(join(from, "tokenizer.json")))) {
    throw new ImportModelError(`${from}: no tokenizer.json (--tokenizer names the directory)`);
  }
  for (const file of TOKENIZER_FILES) {
    const source = join(from, file);
    if ((await exists(source)) && resolve(source) !== resolve(out, file)) {
      await copyFile(source, join(out, file));
    }
  }
  let config: Record<string, unknown> | undefined;
  if (await exists(join(from, "tokenizer_config.json"))) {
    config = JSON.parse(await readFile(join(from, "tokenizer_config.json"), "utf8"));
  }
  let template: string | undefined;
  if (config?.["chat_template"] === undefined && (await exists(join(from, TEMPLATE_FILE)))) {
    template = await readFile(join(from, TEMPLATE_FILE), "utf8");
  }
  const max = config?.["model_max_length"];
  return {
    config: config !== undefined,
    configTemplate: config?.["chat_template"] !== undefined,
    template,
    modelMaxLength: typeof max === "number" && max >= 3 && max <= 1e6 ? max : undefined,
  };
}

/** Θ0 = the score head's weight as a d×1 column, b0 its bias; B = 0 until calibration or fit. */
export function importedHead(
  d: number,
  k: number,
  scoreHead: ScoreHead | null,
  modelId: string,
): Head {
  const tensors: HeadTensors = {
    d,
    m: 1,
    k,
    theta0: scoreHead === null ? new Float32Array(d) : Float32Array.from(scoreHead.weight),
    b0: scoreHead === null ? 0 : Math.fround(scoreHead.bias),
    B: new Float32Array(d * k),
  };
  return { ...tensors, hash: computeHeadHash(tensors), modelId, basis: "none" };
}

/** The head with a new B (d×k), e.g. the calibration principal directions. */
export function withBasis(head: Head, B: Float32Array, basis: Head["basis"]): Head {
  const tensors: HeadTensors = {
    d: head.d,
    m: head.m,
    k: head.k,
    theta0: head.theta0,
    b0: head.b0,
    B,
  };
  if (head.prior !== undefined) tensors.prior = head.prior;
  return {
    ...tensors,
    hash: computeHeadHash(tensors),
    modelId: head.modelId,
    ...(basis === undefined ? {} : { basis }),
  };
}

export async function importModel(options: ImportModelOptions): Promise<ImportedModel> {
  const onnxPath = resolve(options.onnx);
  const out = resolve(options.out);
  const pooling = options.pooling ?? "last";
  const outputName = options.output ?? "last_hidden_state";
  const k = options.rank ?? DEFAULT_IMPORT_RANK;
  const notes: string[] = [];
  const graphBytes = await readFile(onnxPath).catch((error: Error) => {
    throw new ImportModelError(`${onnxPath}: cannot read the ONNX graph: ${error.message}`);
  });
  const graph = readGraphInfo(graphBytes, onnxPath);
  const output = featureDim(graph, outputName, onnxPath);
  const scoreHead =
    options.scoreHead === undefined
      ? null
      : await readScoreHead(resolve(options.scoreHead), options.scoreTensor ?? "score.weight");
  const d = resolveD(output, scoreHead, onnxPath);
  if (!Number.isInteger(k) || k < 1 || k > d) {
    throw new ImportModelError(`--rank: expected an integer in [1, d = ${d}], got ${k}`);
  }
  if (scoreHead === null) {
    notes.push("no --score-head: Θ0 = 0 and b0 = 0, so every reward is 0 until `fit` learns Θ0");
  }

  const graphFile = basename(onnxPath);
  const dataFiles = graph.externalDataFiles.map((f) => safeRelative(f, onnxPath));
  if (dataFiles.length > 1) {
    throw new ImportModelError(
      `${onnxPath}: external data is spread over ${dataFiles.length} files (${dataFiles.join(", ")}); re-export with all_tensors_to_one_file`,
    );
  }
  for (const dataFile of dataFiles) {
    const from = join(dirname(onnxPath), dataFile);
    if (!(await exists(from))) {
      throw new ImportModelError(`${onnxPath}: its external data file ${from} is missing`);
    }
  }
  await mkdir(out, { recursive: true });
  await place(onnxPath, join(out, graphFile));
  const backbone: Record<string, unknown> = {
    file: graphFile,
    output: outputName,
    sha256: createHash("sha256").update(graphBytes).digest("hex"),
  };
  for (const dataFile of dataFiles) {
    const from = join(dirname(onnxPath), dataFile);
    await place(from, join(out, dataFile));
    backbone["data_file"] = dataFile;
    backbone["data_sha256"] = await sha256OfFile(from);
  }

  const tokenizerDir = resolve(options.tokenizer);
  const tokenizer = await copyTokenizer(tokenizerDir, out);
  const hasTemplate = tokenizer.template !== undefined || tokenizer.configTemplate;
  const encoding = pooling === "last" && hasTemplate ? "sequence" : "pair";
  if (pooling === "last" && !hasTemplate) {
    notes.push(
      "the tokenizer has no chat template: items are encoded as (prompt, response) pairs with the tokenizer's own pair template",
    );
  }
  const id = options.id ?? basename(out);
  const manifest: Record<string, unknown> = {
    id,
    tokenizer: {
      type: "hf",
      file: "tokenizer.json",
      ...(tokenizer.config ? { config: "tokenizer_config.json" } : {}),
    },
    max_length: options.maxLength ?? tokenizer.modelMaxLength ?? DEFAULT_IMPORT_MAX_LENGTH,
    // "pair" is the manifest's default and stays implicit.
    ...(encoding === "sequence" ? { encoding } : {}),
    pooling,
    d,
    m: 1,
    backbone,
    head: HEAD_DIR,
    ...(tokenizer.template === undefined ? {} : { chat_template: tokenizer.template }),
  };
  // The directory must load as the server will load it: a field the schema refuses fails here.
  parseManifest(manifest, join(out, MANIFEST_FILE));
  await writeFile(join(out, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);

  const head = importedHead(d, k, scoreHead, id);
  await writeHead(join(out, HEAD_DIR), head);
  return { dir: out, manifest, d, head, scoreHead, graph, notes };
}
