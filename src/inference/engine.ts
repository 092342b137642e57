import type { Backend } from "./backend.js";
import { Batcher, type BatcherOptions, type BatchObserver, type Priority } from "./batcher.js";
import { InferenceError } from "./errors.js";
import { type CachedFeatures, FeatureCache } from "./feature-cache.js";
import type { EncodedPair, Tokenizer } from "./tokenizer.js";

export interface TextPair {
  prompt: string;
  response: string;
  /** Where the text came from in the request, for error messages: "items[3]". */
  field?: string;
}

export interface FeatureOptions {
  signal?: AbortSignal;
  priority?: Priority;
  /** false: a text longer than max_length is an error instead of being truncated. */
  truncate?: boolean;
}

export interface EngineObserver extends BatchObserver {
  onTokenize?(seconds: number, texts: number): void;
}

interface InFlight {
  promise: Promise<CachedFeatures>;
  waiters: number;
}

/**
 * Texts → features: cache first, then one shared backbone pass per distinct text, however many
 * requests and users ask for it at once.
 */
export class FeatureEngine {
  readonly #backend: Backend;
  readonly #tokenizer: Tokenizer;
  readonly #maxLength: number;
  readonly #sequence: boolean;
  readonly #cache: FeatureCache;
  readonly #batcher: Batcher<CachedFeatures>;
  readonly #inFlight = new Map<string, InFlight>();
  readonly #observer: EngineObserver;
  #backboneTexts = 0;

  constructor(options: {
    backend: Backend;
    tokenizer: Tokenizer;
    maxLength: number;
    /**
     * "sequence": prompt + response is one rendered text, encoded as it stands (no special tokens
     * added, the end kept when too long); "pair" (default): the tokenizer's pair template.
     */
    encoding?: "pair" | "sequence";
    headHash: string;
    featureCacheBytes: number;
    batcher: BatcherOptions;
    observer?: EngineObserver;
  }) {
    this.#backend = options.backend;
    this.#tokenizer = options.tokenizer;
    this.#maxLength = options.maxLength;
    this.#sequence = options.encoding === "sequence";
    this.#observer = options.observer ?? {};
    this.#cache = new FeatureCache(options.featureCacheBytes, options.headHash);
    this.#batcher = new Batcher<CachedFeatures>(
      async (batch) => {
        this.#backboneTexts += batch.length;
        const features = await this.#backend.embed(batch);
        return features.map((f, i) => ({ ...f, truncated: false, tokens: batch[i]!.ids.length }));
      },
      options.batcher,
      this.#observer,
    );
  }

  get backend(): Backend {
    return this.#backend;
  }

  get cache(): FeatureCache {
    return this.#cache;
  }

  get queueSize(): number {
    return this.#batcher.size;
  }

  /** Whether a text needing the backbone would be refused now. */
  queueFull(): boolean {
    return this.#batcher.queueFull();
  }

  get maxQueued(): number {
    return this.#batcher.maxQueued;
  }

  /** Texts that went through the backbone since start (cache misses that were computed). */
  get backboneTexts(): number {
    return this.#backboneTexts;
  }

  async features(
    pairs: readonly TextPair[],
    options: FeatureOptions = {},
  ): Promise<CachedFeatures[]> {
    const signal = options.signal;
    signal?.throwIfAborted();
    const results: Promise<CachedFeatures>[] = [];
    let tokenizeSeconds = 0;
    let tokenized = 0;
    for (const pair of pairs) {
      const key = this.#cache.key(pair.prompt, pair.response);
      const cached = this.#cache.get(key);
      if (cached) {
        if (cached.truncated && options.truncate === false) throw tooLong(pair);
        results.push(Promise.resolve(cached));
        continue;
      }
      let inFlight = this.#inFlight.get(key);
      if (!inFlight) {
        const started = performance.now();
        const encoded = this.#encode(pair);
        tokenizeSeconds += (performance.now() - started) / 1000;
        tokenized += 1;
        if (encoded.truncated && options.truncate === false) throw tooLong(pair);
        const record: InFlight = { promise: Promise.resolve(undefined as never), waiters: 0 };
        record.promise = this.#batcher
          .submit(
            { ids: encoded.ids, typeIds: encoded.typeIds },
            options.priority ?? "high",
            () => record.waiters === 0,
          )
          .then((features) => {
            const value = { ...features, truncated: encoded.truncated };
            this.#cache.set(key, value);
            return value;
          })
          .finally(() => this.#inFlight.delete(key));
        inFlight = record;
        this.#inFlight.set(key, record);
      } else if (options.truncate === false) {
        // A shared pass does not tell us yet whether the text was truncated.
        if (this.#encode(pair).truncated) throw tooLong(pair);
      }
      results.push(this.#wait(inFlight, signal));
    }
    if (tokenized > 0) this.#observer.onTokenize?.(tokenizeSeconds, tokenized);
    return Promise.all(results);
  }

  #encode(pair: TextPair): EncodedPair {
    if (this.#sequence) {
      return this.#tokenizer.encodeSequence(pair.prompt + pair.response, this.#maxLength);
    }
    return this.#tokenizer.encodePair(pair.prompt, pair.response, this.#maxLength);
  }

  #wait(record: InFlight, signal: AbortSignal | undefined): Promise<CachedFeatures> {
    record.waiters += 1;
    if (!signal) return record.promise;
    return new Promise<CachedFeatures>((resolve, reject) => {
      const onAbort = () => {
        record.waiters -= 1;
        reject(new InferenceError("CANCELLED", "The client closed the request"));
      };
      signal.addEventListener("abort", onAbort, { once: true });
      record.promise.then(
        (value) => {
          signal.removeEventListener("abort", onAbort);
          resolve(value);
        },
        (error) => {
          signal.removeEventListener("abort", onAbort);
          reject(error);
        },
      );
    });
  }

  async drain(): Promise<void> {
    await this.#batcher.drain();
  }
}

function tooLong(pair: TextPair): InferenceError {
  return new InferenceError(
    "TEXT_TOO_LONG",
    `${pair.field ?? "The text"} is longer than the model's max_length and "truncate" is false`,
    { field: pair.field },
  );
}
