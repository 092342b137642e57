import {
  Counter,
  collectDefaultMetrics,
  exponentialBuckets,
  Gauge,
  Histogram,
  Registry,
} from "prom-client";
import type { AdapterCacheStats, LoadOutcome } from "../adapters/cache.js";
import type { ReadStalls } from "../adapters/types.js";
import type { BatchObserver } from "../inference/batcher.js";
import type { EngineObserver } from "../inference/engine.js";

export const METRIC_PREFIX = "sharelora_";

/** What the metrics read at scrape time; they appear once the model is loaded. */
export interface MetricSources {
  features: {
    readonly hits: number;
    readonly misses: number;
    readonly entries: number;
    readonly bytes: number;
  };
  adapters: { stats(): AdapterCacheStats; readStalls?(): ReadStalls };
  /** Adapters stored; may reject (store closed or unreachable): the gauge then keeps its value. */
  countAdapters(): Promise<number>;
}

/** The hooks the runtime calls: engine, batcher, backend, adapter cache and fits. */
export interface MetricHooks extends EngineObserver {
  onInference(seconds: number, batchSize: number): void;
  onAdapterLoad(seconds: number, outcome: LoadOutcome): void;
  onFit(seconds: number, pairs: number, ok: boolean): void;
}

const SECONDS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

/**
 * prom-client's nodejs_active_{handles,requests,resources}_total are gauges, and Prometheus
 * keeps `_total` for counters (promtool check metrics refuses them). Each is the sum of its
 * labelled twin (nodejs_active_handles{type}...), so `sum(...)` of that one says the same.
 */
function dropMisnamedGauges(registry: Registry): void {
  for (const metric of registry.getMetricsAsArray()) {
    // The typings say an enum; at run time `type` is the string of the exposition format.
    const { name, type } = metric as { name: string; type: unknown };
    if (type !== "counter" && name.endsWith("_total")) registry.removeSingleMetric(name);
  }
}

/**
 * Every metric of one app instance, in a registry of its own (several apps can live in one
 * process). Labels are route patterns, methods, statuses and outcomes: never a user id or a URL.
 */
export class ServiceMetrics {
  readonly registry = new Registry();
  #sources: MetricSources | undefined;
  #inFlight: (() => number) | undefined;
  readonly #requests: Counter<"method" | "route" | "status">;
  readonly #requestSeconds: Histogram<"method" | "route" | "status">;
  readonly #queueSize: Histogram;
  readonly #queueDepth: Gauge;
  readonly #batchSize: Histogram;
  readonly #batchTokens: Histogram;
  readonly #batchPaddedTokens: Histogram;
  readonly #tokenizeSeconds: Histogram;
  readonly #queueWaitSeconds: Histogram;
  readonly #inferenceSeconds: Histogram;
  readonly #adapterLoadSeconds: Histogram<"outcome">;
  readonly #fits: Counter;
  readonly #fitsFailed: Counter;
  readonly #fitSeconds: Histogram<"outcome">;
  readonly #fitPairs: Histogram;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    const name = (n: string) => `${METRIC_PREFIX}${n}`;
    if (options.defaultMetrics ?? true) {
      collectDefaultMetrics({ register: this.registry, prefix: METRIC_PREFIX });
      dropMisnamedGauges(this.registry);
    }
    this.#requests = new Counter({
      name: name("http_requests_total"),
      help: "HTTP requests answered, by route pattern and status (499: the client went away)",
      labelNames: ["method", "route", "status"],
      registers,
    });
    this.#requestSeconds = new Histogram({
      name: name("http_request_duration_seconds"),
      help: "Time from request to response, by route pattern and status",
      labelNames: ["method", "route", "status"],
      buckets: SECONDS,
      registers,
    });
    const inFlight = () => this.#inFlight;
    new Gauge({
      name: name("http_requests_in_flight"),
      help: "API requests holding a concurrency permit",
      registers,
      collect() {
        const read = inFlight();
        if (read) this.set(read());
      },
    });
    this.#queueSize = new Histogram({
      name: name("queue_size"),
      help: "Texts waiting for the backbone, observed at every enqueue and batch",
      buckets: [0, ...exponentialBuckets(1, 2, 15)],
      registers,
    });
    this.#queueDepth = new Gauge({
      name: name("queue_depth"),
      help: "Texts waiting for the backbone now",
      registers,
    });
    this.#batchSize = new Histogram({
      name: name("batch_size"),
      help: "Sequences per backbone batch",
      buckets: exponentialBuckets(1, 2, 13),
      registers,
    });
    this.#batchTokens = new Histogram({
      name: name("batch_tokens"),
      help: "Real (unpadded) tokens per backbone batch",
      buckets: exponentialBuckets(16, 2, 14),
      registers,
    });
    this.#batchPaddedTokens = new Histogram({
      name: name("batch_padded_tokens"),
      help: "Padded tokens (longest sequence × batch size) per backbone batch",
      buckets: exponentialBuckets(16, 2, 14),
      registers,
    });
    this.#tokenizeSeconds = new Histogram({
      name: name("tokenize_duration_seconds"),
      help: "Time to tokenize the uncached texts of one request",
      buckets: [0.00001, 0.00005, 0.0001, ...SECONDS],
      registers,
    });
    this.#queueWaitSeconds = new Histogram({
      name: name("queue_wait_seconds"),
      help: "Time a text waited in the queue before its batch started",
      buckets: SECONDS,
      registers,
    });
    this.#inferenceSeconds = new Histogram({
      name: name("backbone_inference_duration_seconds"),
      help: "Time of one backbone + head forward pass over a batch",
      buckets: SECONDS,
      registers,
    });
    this.#adapterLoadSeconds = new Histogram({
      name: name("adapter_load_duration_seconds"),
      help: "Time to load an adapter from the store, by outcome (found, absent, error)",
      labelNames: ["outcome"],
      buckets: SECONDS,
      registers,
    });
    this.#fits = new Counter({ name: name("fits_total"), help: "Fits run", registers });
    this.#fitsFailed = new Counter({
      name: name("fits_failed_total"),
      help: "Fits that failed",
      registers,
    });
    this.#fitSeconds = new Histogram({
      name: name("fit_duration_seconds"),
      help: "Time of one fit, features included, by outcome (ok, failed)",
      labelNames: ["outcome"],
      buckets: [...SECONDS, 60, 120, 300],
      registers,
    });
    this.#fitPairs = new Histogram({
      name: name("fit_pairs"),
      help: "Preference pairs per fit",
      buckets: exponentialBuckets(1, 2, 17),
      registers,
    });
    this.#sourceMetrics(registers, name);
  }

  /** Cache and store figures are read at scrape time from the runtime's own counters. */
  #sourceMetrics(registers: Registry[], name: (n: string) => string): void {
    const sources = () => this.#sources;
    const counter = (metric: string, help: string, read: (s: MetricSources) => number) =>
      new Counter({
        name: name(metric),
        help,
        registers,
        collect() {
          const s = sources();
          if (!s) return;
          this.reset();
          this.inc(read(s));
        },
      });
    const gauge = (metric: string, help: string, read: (s: MetricSources) => number) =>
      new Gauge({
        name: name(metric),
        help,
        registers,
        collect() {
          const s = sources();
          if (s) this.set(read(s));
        },
      });
    counter(
      "feature_cache_hits_total",
      "Texts whose features came from the cache",
      (s) => s.features.hits,
    );
    counter(
      "feature_cache_misses_total",
      "Texts not found in the feature cache",
      (s) => s.features.misses,
    );
    gauge("feature_cache_entries", "Texts in the feature cache", (s) => s.features.entries);
    gauge("feature_cache_bytes", "Memory held by the feature cache", (s) => s.features.bytes);
    counter(
      "adapter_cache_hits_total",
      "Adapter lookups answered from memory (known users)",
      (s) => s.adapters.stats().hits,
    );
    counter(
      "adapter_cache_negative_hits_total",
      "Adapter lookups answered from memory (unknown users)",
      (s) => s.adapters.stats().negativeHits,
    );
    counter(
      "adapter_cache_misses_total",
      "Adapter lookups that waited for the store",
      (s) => s.adapters.stats().misses,
    );
    counter(
      "adapter_cache_evictions_total",
      "Adapters dropped from memory to stay within its bound",
      (s) => s.adapters.stats().evictions,
    );
    gauge(
      "adapter_cache_entries",
      "Adapters and unknown-user markers in memory",
      (s) => s.adapters.stats().entries,
    );
    gauge("adapter_cache_bytes", "Memory held by cached adapters", (s) => s.adapters.stats().bytes);
    counter(
      "adapter_read_stalls_total",
      "Adapter reads that did not return within --adapter-read-timeout-ms (each failed its own user)",
      (s) => s.adapters.readStalls?.().stalls ?? 0,
    );
    gauge(
      "adapter_reader_threads_stuck",
      "Adapter reader threads left behind in a stalled read that has not returned",
      (s) => s.adapters.readStalls?.().stuckThreads ?? 0,
    );
    new Gauge({
      name: name("adapters_stored"),
      help: "Users with an adapter in the store",
      registers,
      async collect() {
        const s = sources();
        if (!s) return;
        try {
          this.set(await s.countAdapters());
        } catch {
          // A closed or unreachable store: keep the last value rather than fail the scrape.
        }
      },
    });
  }

  attach(sources: MetricSources): void {
    this.#sources = sources;
  }

  attachInFlight(read: () => number): void {
    this.#inFlight = read;
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const labels = { method, route, status: String(status) };
    this.#requests.inc(labels);
    this.#requestSeconds.observe(labels, seconds);
  }

  onFit(seconds: number, pairs: number, ok: boolean): void {
    this.#fits.inc();
    if (!ok) this.#fitsFailed.inc();
    this.#fitSeconds.observe({ outcome: ok ? "ok" : "failed" }, seconds);
    this.#fitPairs.observe(pairs);
  }

  /** Hooks for createRuntime: pass them as its `hooks` argument. */
  hooks(): MetricHooks {
    const onBatch: NonNullable<BatchObserver["onBatch"]> = (info) => {
      this.#batchSize.observe(info.size);
      this.#batchTokens.observe(info.tokens);
      this.#batchPaddedTokens.observe(info.paddedTokens);
      for (const wait of info.queueWaitSeconds) this.#queueWaitSeconds.observe(wait);
    };
    return {
      onBatch,
      onQueueSize: (size) => {
        this.#queueSize.observe(size);
        this.#queueDepth.set(size);
      },
      onTokenize: (seconds) => this.#tokenizeSeconds.observe(seconds),
      onInference: (seconds) => this.#inferenceSeconds.observe(seconds),
      onAdapterLoad: (seconds, outcome) => this.#adapterLoadSeconds.observe({ outcome }, seconds),
      onFit: (seconds, pairs, ok) => this.onFit(seconds, pairs, ok),
    };
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
