import type { FastifyBaseLogger } from "fastify";
import { AdapterCache, type LoadOutcome } from "./adapters/cache.js";
import { openAdapterStore, type ReadStallEvent } from "./adapters/open-store.js";
import type { AdapterStore } from "./adapters/types.js";
import type { Config } from "./config.js";
import type { Backend } from "./inference/backend.js";
import { createTokenizer } from "./inference/create-tokenizer.js";
import { type EngineObserver, FeatureEngine } from "./inference/engine.js";
import type { OnnxBackendOptions } from "./inference/onnx-backend.js";
import { createModelRenderer } from "./inference/render.js";
import { RestartingBackend } from "./inference/restarting-backend.js";
import { WorkerBackend } from "./inference/worker-backend.js";
import { type Head, readHead } from "./model/head-file.js";
import { loadModelDir, type Manifest } from "./model/manifest.js";
import { asSetting, checkAdapterDirectory, startBackend, warmUp } from "./preflight.js";
import { type FitObserver, FitService } from "./service/fit-service.js";
import { ItemTexts } from "./service/item-texts.js";
import { JobRegistry } from "./service/jobs.js";
import { QueryService } from "./service/query-service.js";
import { ScoringService } from "./service/scoring-service.js";
import { Uncertainty } from "./service/uncertainty.js";
import { UserService } from "./service/user-service.js";

export interface Runtime {
  readonly modelId: string;
  readonly backboneSha256: string;
  readonly manifest: Manifest;
  readonly head: Head;
  readonly backend: Backend;
  readonly engine: FeatureEngine;
  readonly store: AdapterStore;
  readonly adapters: AdapterCache;
  /** Request items and preference pairs as the texts the engine encodes. */
  readonly texts: ItemTexts;
  readonly scoring: ScoringService;
  readonly users: UserService;
  readonly fits: FitService;
  readonly jobs: JobRegistry;
  readonly queries: QueryService;
  close(): Promise<void>;
}

export interface RuntimeHooks extends EngineObserver, FitObserver {
  onFallback?(message: string): void;
  onInference?(seconds: number, batchSize: number): void;
  onAdapterLoad?(seconds: number, outcome: LoadOutcome): void;
}

export async function createRuntime(
  config: Config,
  log: FastifyBaseLogger,
  hooks: RuntimeHooks = {},
): Promise<Runtime> {
  await checkAdapterDirectory(config.adapters);
  const model = await asSetting("model", config.model, () => loadModelDir(config.model));
  const headSetting = config.head === undefined ? "model" : "head";
  const head = await asSetting(headSetting, config.head ?? config.model, async () => {
    const read = await readHead(config.head ?? model.headDir);
    if (read.d !== model.manifest.d || read.m !== model.manifest.m) {
      throw new TypeError(
        `the head (d=${read.d}, m=${read.m}) does not fit the model ${model.manifest.id} (d=${model.manifest.d}, m=${model.manifest.m})`,
      );
    }
    return read;
  });
  const { manifest } = model;
  const tokenizer = await asSetting("model", config.model, () =>
    createTokenizer(manifest, model.dir),
  );
  const texts = new ItemTexts(createModelRenderer(manifest, tokenizer), manifest.encoding);
  const backendOptions: OnnxBackendOptions = {
    backbone: model.backbone.source,
    backboneOutput: manifest.backbone.output,
    ...(manifest.backbone.output_dtype ? { outputDtype: manifest.backbone.output_dtype } : {}),
    pooling: manifest.pooling,
    paddingSide: manifest.padding_side,
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
  const store = await asSetting("adapters", config.adapters, () =>
    openAdapterStore(
      config.adapters,
      { k: head.k, m: head.m },
      {
        headHash: head.hash,
        readTimeoutMs: config.adapterReadTimeoutMs,
        onReadStall: (event) => logReadStall(log, event),
      },
    ),
  );
  const backend = await startBackend(
    config,
    () =>
      RestartingBackend.create({
        create: () => WorkerBackend.create(backendOptions),
        onEvent: (event) => {
          if (event.type === "failed")
            log.error({ err: event.error }, "inference worker died; restarting it");
          else if (event.type === "restarted")
            log.warn({ attempt: event.attempt }, "inference worker restarted");
          else
            log.error(
              { err: event.error, attempt: event.attempt },
              "inference worker restart failed",
            );
        },
      }),
    (started) => warmUp(started, tokenizer, manifest.max_length, head),
  ).catch(async (error: unknown) => {
    await store.close();
    throw error;
  });
  const engine = new FeatureEngine({
    backend,
    tokenizer,
    maxLength: manifest.max_length,
    encoding: manifest.encoding,
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
  const adapters = new AdapterCache(store, {
    maxBytes: config.adapterCacheBytes,
    negativeTtlMs: config.negativeCacheMs,
    ...(hooks.onAdapterLoad ? { onLoad: hooks.onAdapterLoad } : {}),
  });
  const scoring = new ScoringService({
    engine,
    adapters,
    headHash: head.hash,
    modelId: manifest.id,
    texts,
    uncertainty: new Uncertainty(head.k * head.m),
    unknownUser: config.unknownUser,
  });
  const users = new UserService({
    store: adapters,
    headHash: head.hash,
    shape: { k: head.k, m: head.m },
    maxStoredPairs: config.maxStoredPairs,
  });
  const fits = new FitService({
    engine,
    store: adapters,
    head,
    maxStoredPairs: config.maxStoredPairs,
    observer: hooks,
  });
  const jobs = new JobRegistry();
  const queries = new QueryService({
    engine,
    adapters,
    head,
    texts,
    maxPairs: config.maxQueryPairs,
  });
  return {
    modelId: manifest.id,
    backboneSha256: model.backbone.sha256,
    manifest,
    head,
    backend,
    engine,
    store,
    adapters,
    texts,
    scoring,
    users,
    fits,
    jobs,
    queries,
    async close() {
      await jobs.drain();
      await engine.drain();
      await store.close();
      await backend.dispose();
    },
  };
}

/** Stalled adapter reads: warnings while they hold threads, info once a stuck one returns. */
function logReadStall(log: FastifyBaseLogger, event: ReadStallEvent): void {
  if (event.type === "stalled") {
    const { user, waitedMs, stuckThreads, retryAfterSeconds } = event;
    log.warn({ user, waitedMs, stuckThreads, retryAfterSeconds }, "adapter read stalled");
  } else if (event.type === "start-stalled") {
    log.warn(
      { users: event.users, waitedMs: event.waitedMs, stuckThreads: event.stuckThreads },
      "adapter reader thread did not start in time",
    );
  } else if (event.type === "saturated") {
    log.error(
      { stuckThreads: event.stuckThreads },
      "every adapter reader thread is stuck in a read; uncached adapter reads fail until one returns",
    );
  } else {
    log.info(
      { stuckMs: event.stuckMs, stuckThreads: event.stuckThreads },
      "a stalled adapter read returned; its thread exited",
    );
  }
}
