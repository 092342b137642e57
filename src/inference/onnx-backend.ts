import type { Head } from "../model/head-file.js";
import { buildHeadGraph } from "../model/head-graph.js";
import type { Backend, TextFeatures, TokenSeq } from "./backend.js";
import { parseDevice } from "./device.js";
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
const FED_INPUTS: readonly string[] = ["input_ids", "attention_mask", "token_type_ids"];

export interface OnnxBackendOptions {
  backbone: Uint8Array | string;
  /** Name of the backbone output: pooled `features` [batch,d] / [batch,d,m], or hidden states. */
  backboneOutput: string;
  pooling: "none" | "mean" | "cls";
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
  readonly k: number;
  readonly m: number;

  private constructor(backbone: OnnxSession, head: OnnxSession, options: OnnxBackendOptions) {
    this.#backbone = backbone;
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
    const { head } = options;
    const headGraph = buildHeadGraph({
      d: head.d,
      m: head.m,
      k: head.k,
      theta0: head.theta0,
      b0: head.b0,
      B: head.B,
      input:
        options.pooling === "none"
          ? { kind: "pooled" }
          : { kind: "hidden", pooling: options.pooling },
    });
    let lastError: unknown;
    for (const device of candidates) {
      if (device.kind === "cuda" && !cudaBundled()) {
        if (strict) throw new ProviderUnavailableError(CUDA_MISSING);
        options.onFallback?.("CUDA execution provider not installed; using the CPU");
        continue;
      }
      try {
        return await OnnxBackend.#open(device, headGraph, options);
      } catch (error) {
        if (strict) throw error;
        lastError = error;
        options.onFallback?.(`${error instanceof Error ? error.message : error}; using the CPU`);
      }
    }
    throw lastError;
  }

  static async #open(
    device: Device,
    headGraph: Uint8Array,
    options: OnnxBackendOptions,
  ): Promise<OnnxBackend> {
    const common = {
      device,
      ...(options.intraOpThreads ? { intraOpThreads: options.intraOpThreads } : {}),
    };
    const backbone = await OnnxSession.create(options.backbone, { ...common, label: "backbone" });
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
            `The backbone declares input "${name}", which is not fed (only ${FED_INPUTS.join(", ")} are)`,
          );
        }
      }
      if (!backbone.outputNames.includes(options.backboneOutput)) {
        throw new SessionError(
          `The backbone has no output "${options.backboneOutput}"; it has ${backbone.outputNames.join(", ")}`,
        );
      }
      const head = await OnnxSession.create(headGraph, { ...common, label: "head" });
      return new OnnxBackend(backbone, head, options);
    } catch (error) {
      await backbone.dispose();
      throw error;
    }
  }

  async embed(batch: readonly TokenSeq[]): Promise<TextFeatures[]> {
    const n = batch.length;
    if (n === 0) return [];
    let length = 0;
    for (const seq of batch) length = Math.max(length, seq.ids.length);
    const inputIds = new BigInt64Array(n * length).fill(BigInt(this.#options.padId));
    const mask = new BigInt64Array(n * length);
    const wantsTypes = this.#backbone.inputNames.includes("token_type_ids");
    const typeIds = wantsTypes ? new BigInt64Array(n * length) : undefined;
    for (let b = 0; b < n; b++) {
      const { ids, typeIds: types } = batch[b]!;
      for (let t = 0; t < ids.length; t++) {
        inputIds[b * length + t] = BigInt(ids[t]!);
        mask[b * length + t] = 1n;
        if (typeIds && types) typeIds[b * length + t] = BigInt(types[t]!);
      }
    }
    const dims = [n, length];
    const started = performance.now();
    const output = this.#options.backboneOutput;
    const feeds: Record<string, Feed> = {
      input_ids: { type: "int64", data: inputIds, dims },
      attention_mask: { type: "int64", data: mask, dims },
    };
    if (typeIds) feeds["token_type_ids"] = { type: "int64", data: typeIds, dims };
    const features = (await this.#backbone.run(feeds, [output]))[output]!;
    const headFeeds: Record<string, Feed> =
      this.#options.pooling === "none"
        ? { features: { type: "float32", data: features.data, dims: features.dims } }
        : {
            last_hidden_state: { type: "float32", data: features.data, dims: features.dims },
            attention_mask: { type: "int64", data: mask, dims },
          };
    const { base, proj } = await this.#head.run(headFeeds, ["base", "proj"]);
    this.#options.onInference?.((performance.now() - started) / 1000, n);
    const width = this.k * this.m;
    const results: TextFeatures[] = new Array(n);
    for (let b = 0; b < n; b++) {
      results[b] = { base: base!.data[b]!, proj: proj!.data.slice(b * width, (b + 1) * width) };
    }
    return results;
  }

  async dispose(): Promise<void> {
    await this.#backbone.dispose();
    await this.#head.dispose();
  }
}
