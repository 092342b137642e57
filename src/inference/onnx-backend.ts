import { readFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { Head } from "../model/head-file.js";
import { buildHeadGraphOf, type HeadInputType } from "../model/head-graph.js";
import type { OutputDtype } from "../model/manifest.js";
import { castOutputToFloat32, graphOutputTypes } from "../model/onnx/output-cast.js";
import type { Backend, TextFeatures, TokenSeq } from "./backend.js";
import { parseDevice } from "./device.js";
import { padBatch } from "./pad-batch.js";
import {
  CUDA_MISSING,
  cudaBundled,
  type Device,
  type Feed,
  OnnxSession,
  ProviderUnavailableError,
  SessionError,
} from "./session.js";

/** Every backbone input embed() knows how to fill. */
const FED_INPUTS: readonly string[] = [
  "input_ids",
  "attention_mask",
  "position_ids",
  "token_type_ids",
];

export interface OnnxBackendOptions {
  /** The graph's bytes, or its path (a graph with external data is loaded by path). */
  backbone: Uint8Array | string;
  /** Name of the backbone output: pooled `features` [batch,d] / [batch,d,m], or hidden states. */
  backboneOutput: string;
  /** The output's element type when the manifest states it; otherwise read from the graph. */
  outputDtype?: OutputDtype;
  pooling: "none" | "mean" | "cls" | "last";
  /** Side the batch pads on (default right). */
  paddingSide?: "right" | "left";
  head: Head;
  padId: number;
  device: string;
  intraOpThreads?: number;
  onFallback?: (message: string) => void;
  onInference?: (seconds: number, batchSize: number) => void;
}

/**
 * Runs the frozen backbone, then a small head graph that turns features into the base reward and
 * the k×m projection, so every operation of size d stays on the execution provider.
 */
export class OnnxBackend implements Backend {
  readonly #backbone: OnnxSession;
  readonly #head: OnnxSession;
  readonly #options: OnnxBackendOptions;
  /** The backbone output read: backboneOutput, or its float32 cast (bfloat16 graphs). */
  readonly #output: string;
  readonly k: number;
  readonly m: number;

  private constructor(
    backbone: OnnxSession,
    head: OnnxSession,
    output: string,
    options: OnnxBackendOptions,
  ) {
    this.#backbone = backbone;
    this.#output = output;
    this.#head = head;
    this.#options = options;
    this.k = options.head.k;
    this.m = options.head.m;
  }

  get provider(): string {
    return this.#backbone.provider;
  }

  static async create(options: OnnxBackendOptions): Promise<OnnxBackend> {
    const { candidates, strict } = parseDevice(options.device);
    let lastError: unknown;
    for (const device of candidates) {
      if (device.kind === "cuda" && !cudaBundled()) {
        if (strict) throw new ProviderUnavailableError(CUDA_MISSING);
        options.onFallback?.("CUDA execution provider not installed; using the CPU");
        continue;
      }
      try {
        return await OnnxBackend.#open(device, options);
      } catch (error) {
        if (strict) throw error;
        lastError = error;
        options.onFallback?.(`${error instanceof Error ? error.message : error}; using the CPU`);
      }
    }
    throw lastError;
  }

  static async #open(device: Device, options: OnnxBackendOptions): Promise<OnnxBackend> {
    const common = {
      device,
      ...(options.intraOpThreads ? { intraOpThreads: options.intraOpThreads } : {}),
    };
    const graph = await prepareBackbone(options);
    const backbone = await OnnxSession.create(graph.model, {
      ...common,
      label: "backbone",
      ...(graph.externalDataDir ? { externalDataDir: graph.externalDataDir } : {}),
    });
    try {
      for (const name of ["input_ids", "attention_mask"]) {
        if (!backbone.inputNames.includes(name)) {
          throw new SessionError(
            `The backbone must take input "${name}"; it takes ${backbone.inputNames.join(", ")}`,
          );
        }
      }
      for (const name of backbone.inputNames) {
        if (!FED_INPUTS.includes(name)) {
          throw new SessionError(
            `The backbone declares input "${name}", which sharelora cannot fill (it fills ${FED_INPUTS.join(", ")})`,
          );
        }
      }
      if (!backbone.outputNames.includes(graph.output)) {
        throw new SessionError(
          `The backbone has no output "${options.backboneOutput}"; it has ${backbone.outputNames.join(", ")}`,
        );
      }
      const type = graph.cast
        ? "float32"
        : headInputType(backbone.outputType(graph.output), options);
      const head = await OnnxSession.create(headGraphFor(options, type), {
        ...common,
        label: "head",
      });
      return new OnnxBackend(backbone, head, graph.output, options);
    } catch (error) {
      await backbone.dispose();
      throw error;
    }
  }

  async embed(batch: readonly TokenSeq[]): Promise<TextFeatures[]> {
    const n = batch.length;
    if (n === 0) return [];
    const names = this.#backbone.inputNames;
    const padded = padBatch(batch, this.#options.padId, this.#options.paddingSide ?? "right", {
      positions: names.includes("position_ids"),
      types: names.includes("token_type_ids"),
    });
    const { dims, mask } = padded;
    const started = performance.now();
    const output = this.#output;
    const feeds: Record<string, Feed> = {
      input_ids: { type: "int64", data: padded.inputIds, dims },
      attention_mask: { type: "int64", data: mask, dims },
    };
    if (padded.positionIds)
      feeds["position_ids"] = { type: "int64", data: padded.positionIds, dims };
    if (padded.typeIds) feeds["token_type_ids"] = { type: "int64", data: padded.typeIds, dims };
    const features = (await this.#backbone.run(feeds, [output]))[output]!;
    const headFeeds: Record<string, Feed> =
      this.#options.pooling === "none"
        ? { features }
        : { last_hidden_state: features, attention_mask: { type: "int64", data: mask, dims } };
    const { base, proj } = await this.#head.run(headFeeds, ["base", "proj"]);
    if (base?.type !== "float32" || proj?.type !== "float32") {
      throw new SessionError("The head graph must return float32 base and proj");
    }
    this.#options.onInference?.((performance.now() - started) / 1000, n);
    const width = this.k * this.m;
    const results: TextFeatures[] = new Array(n);
    for (let b = 0; b < n; b++) {
      results[b] = { base: base.data[b]!, proj: proj.data.slice(b * width, (b + 1) * width) };
    }
    return results;
  }

  async dispose(): Promise<void> {
    await this.#backbone.dispose();
    await this.#head.dispose();
  }
}

interface PreparedBackbone {
  model: Uint8Array | string;
  output: string;
  /** True when a Cast to float32 was appended to the output. */
  cast: boolean;
  externalDataDir?: string;
}

/**
 * onnxruntime-node cannot hold bfloat16 tensors (a session with such an output does not load), so
 * a bfloat16 output gets a Cast to float32 appended to the graph; the graph's own output types are
 * read from its bytes first. A graph loaded by path is read only then, and its external data is
 * still read by onnxruntime from the graph's directory.
 */
async function prepareBackbone(options: OnnxBackendOptions): Promise<PreparedBackbone> {
  const source = options.backbone;
  const name = options.backboneOutput;
  const bytes = typeof source === "string" ? new Uint8Array(await readGraph(source)) : source;
  const declared = graphOutputTypes(bytes).get(name);
  if ((options.outputDtype ?? declared) !== "bfloat16" && declared !== "bfloat16") {
    return { model: source, output: name, cast: false };
  }
  const rewritten = castOutputToFloat32(bytes, name);
  return {
    model: rewritten.bytes,
    output: rewritten.output,
    cast: true,
    ...(typeof source === "string" ? { externalDataDir: dirname(source) } : {}),
  };
}

async function readGraph(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new SessionError(`Cannot read the backbone graph ${path}: ${(error as Error).message}`);
  }
}

function headInputType(declared: string | undefined, options: OnnxBackendOptions): HeadInputType {
  // The manifest's output_dtype stands in for a graph that declares no type; it may not contradict one.
  if (
    declared !== undefined &&
    options.outputDtype !== undefined &&
    declared !== options.outputDtype
  ) {
    throw new SessionError(
      `The manifest's backbone.output_dtype is ${options.outputDtype}, but the graph's output ` +
        `"${options.backboneOutput}" is ${declared}: correct or remove output_dtype`,
    );
  }
  const type = declared ?? options.outputDtype;
  if (type === "float32" || type === "float16") return type;
  throw new SessionError(
    `The backbone output "${options.backboneOutput}" is ${type ?? "not a tensor"}; ` +
      "expected float32 or float16 (bfloat16 graphs are cast to float32 when loaded)",
  );
}

function headGraphFor(options: OnnxBackendOptions, type: HeadInputType): Uint8Array {
  return buildHeadGraphOf(
    options.head,
    options.pooling === "none"
      ? { kind: "pooled", type }
      : {
          kind: "hidden",
          pooling: options.pooling,
          paddingSide: options.paddingSide ?? "right",
          type,
        },
  );
}
