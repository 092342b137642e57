import type { FastifyBaseLogger } from "fastify";
import { AdapterCache, type LoadOutcome } from "./adapters/cache.js";
import { openAdapterStore } from "./adapters/open-store.js";
import type { AdapterStore } from "./adapters/types.js";
import type { Config } from "./config.js";
import { ProblemError } from "./errors.js";
import type { Backend } from "./inference/backend.js";
import { type EngineObserver, FeatureEngine } from "./inference/engine.js";
import type { OnnxBackendOptions } from "./inference/onnx-backend.js";
import { createItemRenderer, type ItemRenderer, type RewardItem } from "./inference/render.js";
import { RestartingBackend } from "./inference/restarting-backend.js";
import { createTokenizer } from "./inference/tokenizer.js";
import { WorkerBackend } from "./inference/worker-backend.js";
import { inverseQuadraticForm } from "./math/linalg.js";
import { type Head, readHead } from "./model/head-file.js";
import { loadModelDir, type Manifest } from "./model/manifest.js";
import { type FitObserver, FitService } from "./service/fit-service.js";
import { JobRegistry } from "./service/jobs.js";
import { type Personalization, RewardService } from "./service/reward-service.js";

export interface Runtime {
  readonly modelId: string;
  readonly backboneSha256: string;
  readonly manifest: Manifest;
  readonly head: Head;
  readonly backend: Backend;
  readonly engine: FeatureEngine;
  readonly store: AdapterStore;
  readonly adapters: AdapterCache;
  readonly service: RewardService;
  readonly fits: FitService;
  readonly jobs: JobRegistry;
  /** Messages → (prompt, response); a malformed conversation is a 400 naming `field`. */
  render(item: RewardItem, field: string): { prompt: string; response: string };
  /** σ(x) = sqrt(xᵀ H⁻¹ x) under the user's posterior, or the prior I/λ₀ without an adapter. */
  uncertainty(personalization: Personalization, x: Float32Array): number;
  close(): Promise<void>;
}

export interface RuntimeHooks extends EngineObserver, FitObserver {
  onFallback?(message: string): void;
  onInference?(seconds: number, batchSize: number): void;
  onAdapterLoad?(seconds: number, outcome: LoadOutcome): void;
}

export const PRIOR_LAMBDA = 1;

export async function createRuntime(
  config: Config,
  log: FastifyBaseLogger,
  hooks: RuntimeHooks = {},
): Promise<Runtime> {
  const model = await loadModelDir(config.model);
  const head = await readHead(config.head ?? model.headDir);
  const { manifest } = model;
  if (head.d !== manifest.d || head.m !== manifest.m) {
    throw new TypeError(
      `The head (d=${head.d}, m=${head.m}) does not fit the model ${manifest.id} (d=${manifest.d}, m=${manifest.m})`,
    );
  }
  const tokenizer = await createTokenizer(manifest, model.dir);
  const renderer: ItemRenderer = createItemRenderer(manifest.chat_template);
  const backendOptions: OnnxBackendOptions = {
    backbone: model.backbone.bytes,
    backboneOutput: manifest.backbone.output,
    pooling: manifest.pooling,
    head,
    padId: tokenizer.padId,
    device: config.device,
    intraOpThreads: config.intraOpThreads,
    onFallback: (message: string) => {
      log.info({ device: config.device }, message);
      hooks.onFallback?.(message);
    },
    ...(hooks.onInference ? { onInference: hooks.onInference } : {}),
  };
  const backend = await RestartingBackend.create({
    create: () => WorkerBackend.create(backendOptions),
    onEvent: (event) => {
      if (event.type === "failed")
        log.error({ err: event.error }, "inference worker died; restarting it");
      else if (event.type === "restarted")
        log.warn({ attempt: event.attempt }, "inference worker restarted");
      else
        log.error({ err: event.error, attempt: event.attempt }, "inference worker restart failed");
    },
  });
  const engine = new FeatureEngine({
    backend,
    tokenizer,
    maxLength: manifest.max_length,
    headHash: head.hash,
    featureCacheBytes: config.featureCacheBytes,
    batcher: {
      maxBatchTokens: config.maxBatchTokens,
      maxBatchSize: config.maxBatchSize,
      maxWaitMs: config.maxWaitMs,
      maxQueued: config.maxQueued,
    },
    observer: hooks,
  });
  const store = await openAdapterStore(config.adapters, { k: head.k, m: head.m });
  const adapters = new AdapterCache(store, {
    maxBytes: config.adapterCacheBytes,
    negativeTtlMs: config.negativeCacheMs,
    ...(hooks.onAdapterLoad ? { onLoad: hooks.onAdapterLoad } : {}),
  });
  const service = new RewardService({
    engine,
    adapters,
    headHash: head.hash,
    modelId: manifest.id,
  });
  const fits = new FitService({
    engine,
    store: adapters,
    head,
    maxStoredPairs: config.maxStoredPairs,
    observer: hooks,
  });
  const jobs = new JobRegistry();
  const p = head.k * head.m;
  const scratch = new Float64Array(p);
  return {
    modelId: manifest.id,
    backboneSha256: model.backbone.sha256,
    manifest,
    head,
    backend,
    engine,
    store,
    adapters,
    service,
    fits,
    jobs,
    render(item, field) {
      try {
        return renderer.render(item);
      } catch (error) {
        if ((error as { code?: string }).code !== "INVALID_MESSAGES") throw error;
        throw new ProblemError(
          "INVALID_MESSAGES",
          `${field}.messages: ${(error as Error).message}`,
          {
            field: `${field}.messages`,
          },
        );
      }
    },
    uncertainty(personalization, x) {
      const posterior = personalization.adapter?.posterior;
      if (posterior) return Math.sqrt(inverseQuadraticForm(posterior.cholesky, p, x, scratch));
      let sum = 0;
      for (let i = 0; i < x.length; i++) sum += x[i]! * x[i]!;
      return Math.sqrt(sum / PRIOR_LAMBDA);
    },
    async close() {
      await jobs.drain();
      await engine.drain();
      await store.close();
      await backend.dispose();
    },
  };
}
