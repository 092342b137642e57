import type { Worker } from "node:worker_threads";
import { RequestReply } from "../threads/request-reply.js";
import { spawnModuleWorker } from "../threads/spawn-worker.js";
import type { Backend, TextFeatures, TokenSeq } from "./backend.js";
import { InferenceError, isInferenceCode } from "./errors.js";
import type { OnnxBackendOptions } from "./onnx-backend.js";
import { packBatch, packedBuffers } from "./packed-batch.js";
import type { EmbeddedReply, SerializedError, WorkerReply } from "./worker-protocol.js";

/** A failure on the worker thread, as it reported it; its own code is kept as `workerCode`. */
export class BackendWorkerError extends InferenceError {
  override readonly name: string;
  readonly workerCode: string | undefined;

  constructor(error: SerializedError) {
    super(isInferenceCode(error.code) ? error.code : "INFERENCE_FAILED", error.message);
    this.name = error.name;
    this.workerCode = error.code;
  }
}

/**
 * The backend on a worker thread, so the event loop keeps accepting, parsing and answering
 * requests (and the batcher keeps filling the next batch) while a batch runs.
 */
export class WorkerBackend implements Backend {
  readonly #worker: Worker;
  readonly #requests = new RequestReply<EmbeddedReply>();
  readonly #onInference: OnnxBackendOptions["onInference"];
  readonly provider: string;
  readonly k: number;
  readonly m: number;
  #failure: Error | undefined;
  #failureListeners: ((error: Error) => void)[] = [];

  private constructor(worker: Worker, provider: string, options: OnnxBackendOptions) {
    this.#worker = worker;
    this.provider = provider;
    this.k = options.head.k;
    this.m = options.head.m;
    this.#onInference = options.onInference;
    worker.on("message", (reply: WorkerReply) => this.#receive(reply));
    worker.on("error", (error) => this.#fail(error));
    worker.on("exit", (code) =>
      this.#fail(new Error(`The inference worker exited with code ${code}`)),
    );
  }

  static async create(options: OnnxBackendOptions): Promise<WorkerBackend> {
    const { onFallback, onInference: _onInference, ...data } = options;
    const worker = spawnModuleWorker(new URL("./backend-worker.js", import.meta.url), data);
    const provider = await new Promise<string>((resolve, reject) => {
      const onMessage = (reply: WorkerReply) => {
        if (reply.type === "log") onFallback?.(reply.message);
        else if (reply.type === "ready") {
          worker.off("message", onMessage);
          resolve(reply.provider);
        } else if (reply.type === "failed") {
          worker.off("message", onMessage);
          reject(new BackendWorkerError(reply.error));
        }
      };
      worker.on("message", onMessage);
      worker.once("error", reject);
      worker.once("exit", (code) =>
        reject(new Error(`The inference worker exited with code ${code} while loading`)),
      );
    });
    worker.removeAllListeners("error");
    worker.removeAllListeners("exit");
    return new WorkerBackend(worker, provider, options);
  }

  healthy(): boolean {
    return this.#failure === undefined;
  }

  /** Called once if the worker dies (not when it is disposed). */
  onFailure(listener: (error: Error) => void): void {
    this.#failureListeners.push(listener);
  }

  /** Stops the worker at once, as a crash would: running batches fail and failure listeners run. */
  async kill(): Promise<void> {
    await this.#worker.terminate();
  }

  embed(batch: readonly TokenSeq[]): Promise<TextFeatures[]> {
    if (batch.length === 0) return Promise.resolve([]);
    if (this.#failure) return Promise.reject(this.#failure);
    const embedded = this.#requests.request((id) => {
      const packed = packBatch(batch);
      this.#worker.postMessage({ type: "embed", id, batch: packed }, packedBuffers(packed));
    });
    return embedded.then((reply) => this.#features(reply, batch.length));
  }

  #receive(reply: WorkerReply): void {
    if (reply.type === "embedded") this.#requests.resolve(reply.id, reply);
    else if (reply.type === "embed-failed") {
      this.#requests.reject(reply.id, new BackendWorkerError(reply.error));
    }
  }

  #features(reply: EmbeddedReply, size: number): TextFeatures[] {
    this.#onInference?.(reply.seconds, size);
    const width = this.k * this.m;
    const features: TextFeatures[] = new Array(size);
    for (let i = 0; i < size; i++) {
      features[i] = { base: reply.base[i]!, proj: reply.proj.slice(i * width, (i + 1) * width) };
    }
    return features;
  }

  #fail(error: Error): void {
    const first = this.#failure === undefined;
    this.#failure ??= error;
    this.#requests.rejectAll(error);
    if (first) for (const listener of this.#failureListeners.splice(0)) listener(error);
  }

  async dispose(): Promise<void> {
    if (this.#failure) return;
    const disposed = new Promise<void>((resolve) => {
      this.#worker.on("message", (reply: WorkerReply) => {
        if (reply.type === "disposed") resolve();
      });
    });
    this.#worker.postMessage({ type: "dispose" });
    await disposed;
    this.#failure = new Error("The backend is disposed");
    await this.#worker.terminate();
  }
}
