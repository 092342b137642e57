import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import * as ort from "onnxruntime-node";
import { InferenceError } from "./errors.js";

/** The only module that imports onnxruntime: everything else sees plain typed arrays. */

export type Device = { kind: "cpu" } | { kind: "cuda"; deviceId: number };

export interface SessionOptions {
  device: Device;
  intraOpThreads?: number;
  label: string;
  /** For a graph given as bytes whose weights are external: the directory they are in. */
  externalDataDir?: string;
}

export type Feed =
  | { type: "int64"; data: BigInt64Array; dims: readonly number[] }
  | { type: "float32"; data: Float32Array; dims: readonly number[] }
  /** IEEE half-precision bit patterns, passed through unconverted. */
  | { type: "float16"; data: Uint16Array; dims: readonly number[] };

export type Output =
  | { type: "float32"; data: Float32Array; dims: readonly number[] }
  | { type: "float16"; data: Uint16Array; dims: readonly number[] };

export class SessionError extends InferenceError {
  override readonly name = "SessionError";

  constructor(message: string, options: { cause?: unknown } = {}) {
    super("INFERENCE_FAILED", message, options);
  }
}

export const CUDA_MISSING =
  "onnxruntime's CUDA execution provider is not installed. Install it with " +
  "`ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node` on a machine with CUDA 12 and cuDNN 9, " +
  "or use --device cpu or auto.";

export class ProviderUnavailableError extends Error {
  readonly code = "PROVIDER_UNAVAILABLE";
}

/**
 * Whether onnxruntime's CUDA provider library is installed next to the binding (the npm package
 * ships without it; `ONNXRUNTIME_NODE_INSTALL=cuda12` installs it). Asking onnxruntime instead would
 * print a load error on every CPU-only machine.
 */
export function cudaBundled(): boolean {
  if (!ort.listSupportedBackends().some((b) => b.name === "cuda")) return false;
  const root = dirname(createRequire(import.meta.url).resolve("onnxruntime-node/package.json"));
  const library =
    process.platform === "win32"
      ? "onnxruntime_providers_cuda.dll"
      : "libonnxruntime_providers_cuda.so";
  return existsSync(join(root, "bin", "napi-v6", process.platform, process.arch, library));
}

export class OnnxSession {
  readonly #session: ort.InferenceSession;
  readonly #label: string;
  readonly provider: string;

  private constructor(session: ort.InferenceSession, label: string, provider: string) {
    this.#session = session;
    this.#label = label;
    this.provider = provider;
  }

  static async create(model: Uint8Array | string, options: SessionOptions): Promise<OnnxSession> {
    const provider = options.device.kind === "cuda" ? `cuda:${options.device.deviceId}` : "cpu";
    const executionProviders: ort.InferenceSession.ExecutionProviderConfig[] =
      options.device.kind === "cuda"
        ? [{ name: "cuda", deviceId: options.device.deviceId }]
        : ["cpu"];
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      executionProviders,
      graphOptimizationLevel: "all",
      ...(options.intraOpThreads ? { intraOpNumThreads: options.intraOpThreads } : {}),
      extra: {
        session: {
          // Spinning pool threads keep the cores the event loop needs (rendering, tokenizing,
          // HTTP) busy between runs (docs/deployment.md, "CPU threads").
          intra_op: { allow_spinning: "0" },
          inter_op: { allow_spinning: "0" },
          ...(options.externalDataDir
            ? { model_external_initializers_file_folder_path: options.externalDataDir }
            : {}),
        },
      },
    };
    try {
      const session =
        typeof model === "string"
          ? await ort.InferenceSession.create(model, sessionOptions)
          : await ort.InferenceSession.create(model, sessionOptions);
      return new OnnxSession(session, options.label, provider);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (options.device.kind === "cuda") {
        throw new ProviderUnavailableError(
          `Cannot create the ${options.label} session on ${provider}: ${message}. ` +
            "Install onnxruntime's CUDA execution provider with " +
            "`ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node` on a machine with CUDA 12 and cuDNN 9.",
          { cause: error },
        );
      }
      throw new SessionError(`Cannot load the ${options.label} model: ${message}`, {
        cause: error,
      });
    }
  }

  get inputNames(): readonly string[] {
    return this.#session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.#session.outputNames;
  }

  /** The element type the graph declares for an output ("float32", "float16", …), if a tensor. */
  outputType(name: string): string | undefined {
    const metadata = this.#session.outputMetadata.find((m) => m.name === name);
    return metadata?.isTensor ? metadata.type : undefined;
  }

  async run(
    feeds: Record<string, Feed>,
    outputNames: readonly string[],
  ): Promise<Record<string, Output>> {
    for (const name of this.#session.inputNames) {
      if (!(name in feeds)) {
        throw new SessionError(
          `The ${this.#label} model expects input "${name}"; got ${Object.keys(feeds).join(", ")}`,
        );
      }
    }
    const tensors: Record<string, ort.Tensor> = {};
    for (const name of this.#session.inputNames) {
      const feed = feeds[name]!;
      tensors[name] = new ort.Tensor(feed.type, feed.data, feed.dims);
    }
    let results: ort.InferenceSession.ReturnType | undefined;
    try {
      results = await this.#session.run(tensors, outputNames as string[]);
      const out: Record<string, Output> = {};
      for (const name of outputNames) {
        const tensor = results[name];
        if (tensor?.type === "float32") {
          out[name] = { type: "float32", data: tensor.data as Float32Array, dims: tensor.dims };
        } else if (tensor?.type === "float16") {
          // onnxruntime-node hands float16 back as Uint16Array bit patterns (or Float16Array
          // where the runtime has one); either way the same 16-bit words.
          const data = tensor.data as Uint16Array | ArrayBufferView;
          const bits =
            data instanceof Uint16Array
              ? data
              : new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2);
          out[name] = { type: "float16", data: bits, dims: tensor.dims };
        } else {
          throw new SessionError(
            `The ${this.#label} model did not return float32 or float16 output "${name}" (got ${tensor?.type})`,
          );
        }
      }
      return out;
    } catch (error) {
      if (error instanceof SessionError) throw error;
      throw new SessionError(
        `The ${this.#label} model failed: ${error instanceof Error ? error.message : error}`,
        {
          cause: error,
        },
      );
    } finally {
      for (const tensor of Object.values(tensors)) tensor.dispose();
    }
  }

  async dispose(): Promise<void> {
    await this.#session.release();
  }
}
