import { open, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { toFloat32 } from "./float-tensor.js";
import {
  declaredHeaderEnd,
  readSafetensorsHeader,
  type SafetensorsHeader,
  tensorFromBytes,
} from "./safetensors.js";

/** Shard headers list every weight of a large model: far more than a head file's. */
const MAX_SHARD_HEADER_BYTES = 64 * 1024 * 1024;

export interface ScoreHead {
  /** The weight row, length d: Θ0 as a d×1 column. */
  weight: Float32Array;
  /** The bias, 0 when the model has none. */
  bias: number;
  /** dtype of the stored weight. */
  dtype: string;
  /** The safetensors file the weight came from. */
  file: string;
}

export class ScoreHeadError extends Error {
  readonly code = "SCORE_HEAD_INVALID";
  override readonly name = "ScoreHeadError";
}

async function readHeader(path: string): Promise<{ header: SafetensorsHeader; size: number }> {
  const file = await open(path, "r");
  try {
    const { size } = await file.stat();
    const lengthBytes = new Uint8Array(8);
    await file.read(lengthBytes, 0, 8, 0);
    const end = declaredHeaderEnd(lengthBytes, MAX_SHARD_HEADER_BYTES);
    if (end === undefined || end > size) {
      throw new ScoreHeadError(`${path}: not a safetensors file (bad header length)`);
    }
    const prefix = new Uint8Array(end);
    await file.read(prefix, 0, end, 0);
    return {
      header: readSafetensorsHeader(prefix, size, { maxHeaderBytes: MAX_SHARD_HEADER_BYTES }),
      size,
    };
  } finally {
    await file.close();
  }
}

/** One tensor of a safetensors file as float32, reading only the header and that tensor's bytes. */
async function readTensor(
  path: string,
  name: string,
): Promise<{ shape: number[]; values: Float32Array; dtype: string } | undefined> {
  const { header } = await readHeader(path);
  const entry = header.entries.find((e) => e.name === name);
  if (entry === undefined) return undefined;
  const bytes = new Uint8Array(entry.end - entry.begin);
  const file = await open(path, "r");
  try {
    await file.read(bytes, 0, bytes.length, header.dataOffset + entry.begin);
  } finally {
    await file.close();
  }
  const tensor = tensorFromBytes(entry, bytes);
  return { shape: entry.shape, values: toFloat32(tensor, `${path}: ${name}`), dtype: entry.dtype };
}

/** `model.safetensors.index.json`'s weight_map: tensor name → shard file name. */
async function shardMap(indexPath: string): Promise<Record<string, string>> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(indexPath, "utf8"));
  } catch (error) {
    throw new ScoreHeadError(`${indexPath}: cannot read the index: ${(error as Error).message}`);
  }
  const map = (json as { weight_map?: unknown }).weight_map;
  if (typeof map !== "object" || map === null || Array.isArray(map)) {
    throw new ScoreHeadError(`${indexPath}: expected an object weight_map (tensor → shard file)`);
  }
  return map as Record<string, string>;
}

/** "score.weight" → "score.bias"; another name has no bias to look for. */
export function biasNameOf(weightName: string): string | undefined {
  return weightName.endsWith(".weight")
    ? `${weightName.slice(0, -".weight".length)}.bias`
    : undefined;
}

/**
 * The linear score head of a transformers `*ForSequenceClassification` reward model: `weight`
 * [1, d] (or [d]) and an optional bias [1], from a safetensors file, one shard of a sharded
 * checkpoint, or its `model.safetensors.index.json`. F32, F64, F16 and BF16 are read exactly.
 */
export async function readScoreHead(path: string, weightName = "score.weight"): Promise<ScoreHead> {
  const biasName = biasNameOf(weightName);
  let weightFile = path;
  let biasFile: string | undefined = path;
  if (path.endsWith(".json")) {
    const map = await shardMap(path);
    const shard = map[weightName];
    if (typeof shard !== "string") {
      throw new ScoreHeadError(`${path}: weight_map has no tensor ${weightName}`);
    }
    weightFile = join(dirname(path), shard);
    const biasShard = biasName === undefined ? undefined : map[biasName];
    biasFile = typeof biasShard === "string" ? join(dirname(path), biasShard) : undefined;
  }
  const weight = await readTensor(weightFile, weightName).catch((error: Error) => {
    if (error instanceof ScoreHeadError) throw error;
    throw new ScoreHeadError(`${weightFile}: ${error.message}`);
  });
  if (weight === undefined) {
    throw new ScoreHeadError(
      `${weightFile}: no tensor ${weightName} (name the score head's weight with --score-tensor)`,
    );
  }
  const { shape } = weight;
  const rowVector = (shape.length === 2 && shape[0] === 1) || shape.length === 1;
  if (!rowVector || weight.values.length === 0) {
    throw new ScoreHeadError(
      `${weightFile}: ${weightName} has shape [${shape}]; expected [1, d] (one reward per sequence)`,
    );
  }
  let bias = 0;
  if (biasName !== undefined && biasFile !== undefined) {
    const found = await readTensor(biasFile, biasName);
    if (found !== undefined) {
      if (found.values.length !== 1) {
        throw new ScoreHeadError(
          `${biasFile}: ${biasName} has shape [${found.shape}]; expected [1]`,
        );
      }
      bias = found.values[0]!;
    }
  }
  assertFinite(weightFile, weightName, weight.values);
  if (!Number.isFinite(bias)) throw new ScoreHeadError(`${biasFile}: ${biasName} is not finite`);
  return { weight: weight.values, bias, dtype: weight.dtype, file: weightFile };
}

function assertFinite(file: string, name: string, values: Float32Array): void {
  const bad = values.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new ScoreHeadError(`${file}: ${name}[${bad}] is ${values[bad]}`);
}
