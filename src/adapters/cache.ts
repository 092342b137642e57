import { LRUCache } from "lru-cache";
import { adapterByteSize, weightsByteSize } from "./adapter-size.js";
import { AdapterError, type AdapterErrorCode } from "./errors.js";
import {
  type Adapter,
  type AdapterStore,
  type AdapterUpdate,
  type AdapterUpdateOptions,
  type AdapterWeights,
  NO_READ_STALLS,
  type ReadStalls,
} from "./types.js";
import { assertUserId } from "./user-id.js";

export type LoadOutcome = "found" | "absent" | "error";

export interface AdapterCacheOptions {
  /** Memory for cached adapters and unknown-user markers, by adapterByteSize; 0 caches nothing. */
  maxBytes: number;
  /** How long a user the store does not know stays known as unknown; 0 disables. Default 2000. */
  negativeTtlMs?: number;
  /** Clock for negative-entry expiry, in milliseconds (tests); must never return 0. */
  clock?: { now(): number };
  /** Called after every store load with its duration. */
  onLoad?: (durationSeconds: number, outcome: LoadOutcome) => void;
}

export interface AdapterCacheStats {
  /** Gets answered from memory with an adapter. */
  hits: number;
  /** Gets answered from memory with "unknown user". */
  negativeHits: number;
  /** Gets that had to wait for the store (their own load or one already running). */
  misses: number;
  loads: number;
  loadErrors: number;
  loadSeconds: number;
  /** Entries dropped to stay within maxBytes. */
  evictions: number;
  bytes: number;
  entries: number;
  maxBytes: number;
}

const ABSENT = Object.freeze({ absent: true as const });
/** A whole adapter, or only its weights when scoring was all that needed it. */
type Entry = { adapter: Adapter } | { weights: AdapterWeights } | typeof ABSENT;

function isAbsent(entry: Entry): entry is typeof ABSENT {
  return entry === ABSENT;
}

function entryBytes(entry: Entry): number {
  if (isAbsent(entry)) return NEGATIVE_ENTRY_BYTES;
  return "adapter" in entry ? adapterByteSize(entry.adapter) : weightsByteSize(entry.weights);
}

type Load<T> = Promise<T | undefined>;

/**
 * Failures that stop an update before it writes: the store refused the user, the draft or the
 * stored record. An unavailable store (STORE_UNAVAILABLE, or anything unknown) may have failed
 * after its write landed.
 */
const BEFORE_WRITE: ReadonlySet<string> = new Set<AdapterErrorCode>([
  "INVALID_USER_ID",
  "INVALID_ADAPTER",
  "ADAPTER_SHAPE_MISMATCH",
  "ADAPTER_CORRUPT",
  // Only reads stall: the update's read of the current adapter.
  "STORE_STALLED",
]);

function nothingWritten(error: unknown): boolean {
  return error instanceof AdapterError && BEFORE_WRITE.has(error.code);
}

/** Marker for an unknown user: its key plus bookkeeping. */
const NEGATIVE_ENTRY_BYTES = 160;

/**
 * Byte-bounded LRU in front of an AdapterStore. Concurrent gets of one user share one load; a
 * failed load is not remembered; writes through the cache (and invalidations the store reports)
 * drop the user's entry at once. weights() loads and keeps only what scoring needs when the store
 * can read that alone. Returned adapters are shared: treat them as read-only.
 */
export class AdapterCache implements AdapterStore {
  readonly maxBytes: number;
  readonly negativeTtlMs: number;
  #store: AdapterStore;
  #lru: LRUCache<string, Entry> | undefined;
  #loading = new Map<string, Load<Adapter>>();
  #loadingWeights = new Map<string, Load<AdapterWeights>>();
  /** Users whose entry a failed write may have outdated: kept while the store is unhealthy. */
  #unverified = new Set<string>();
  #onLoad: AdapterCacheOptions["onLoad"];
  #unsubscribe: (() => void) | undefined;
  #counters = {
    hits: 0,
    negativeHits: 0,
    misses: 0,
    loads: 0,
    loadErrors: 0,
    loadSeconds: 0,
    evictions: 0,
  };

  constructor(store: AdapterStore, options: AdapterCacheOptions) {
    const { maxBytes, negativeTtlMs = 2000 } = options;
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
      throw new TypeError(`expected maxBytes to be a non-negative integer, got ${maxBytes}`);
    }
    if (!Number.isSafeInteger(negativeTtlMs) || negativeTtlMs < 0) {
      throw new TypeError(
        `expected negativeTtlMs to be a non-negative integer, got ${negativeTtlMs}`,
      );
    }
    this.maxBytes = maxBytes;
    this.negativeTtlMs = negativeTtlMs;
    this.#store = store;
    this.#onLoad = options.onLoad;
    if (maxBytes > 0) {
      this.#lru = new LRUCache<string, Entry>({
        maxSize: maxBytes,
        sizeCalculation: (entry, user) => 2 * user.length + entryBytes(entry),
        ttlResolution: 0,
        ...(options.clock === undefined ? {} : { perf: options.clock }),
        dispose: (_entry, user, reason) => {
          this.#unverified.delete(user);
          if (reason === "evict") this.#counters.evictions++;
        },
      });
    }
    const unsubscribeUsers = store.subscribe?.((user) => this.invalidate(user));
    const unsubscribeResync = store.subscribeResync?.(() => this.clear());
    this.#unsubscribe = () => {
      unsubscribeUsers?.();
      unsubscribeResync?.();
    };
  }

  async get(user: string): Promise<Adapter | undefined> {
    assertUserId(user);
    this.#verify(user);
    const cached = this.#lru?.get(user);
    if (cached !== undefined && isAbsent(cached)) {
      this.#counters.negativeHits++;
      return undefined;
    }
    if (cached !== undefined && "adapter" in cached) {
      this.#counters.hits++;
      return cached.adapter;
    }
    this.#counters.misses++;
    return this.#loading.get(user) ?? this.#loadAdapter(user);
  }

  /** The user's W and what identifies it: all that scoring needs, and cheaper to load than get(). */
  async weights(user: string): Promise<AdapterWeights | undefined> {
    assertUserId(user);
    this.#verify(user);
    const cached = this.#lru?.get(user);
    if (cached !== undefined && isAbsent(cached)) {
      this.#counters.negativeHits++;
      return undefined;
    }
    if (cached !== undefined) {
      this.#counters.hits++;
      return "adapter" in cached ? cached.adapter : cached.weights;
    }
    this.#counters.misses++;
    const running = this.#loading.get(user) ?? this.#loadingWeights.get(user);
    if (running !== undefined) return running;
    return this.#store.getWeights === undefined ? this.#loadAdapter(user) : this.#loadWeights(user);
  }

  /**
   * A failed update keeps the user's entry: when nothing can have been written (the update
   * function threw, or the store refused before writing) the entry is as good as before; when
   * the write may have landed (the store failed mid-way), the entry is served while the store is
   * unhealthy and read again from the store once it is healthy.
   */
  async update(
    user: string,
    update: AdapterUpdate,
    options?: AdapterUpdateOptions,
  ): Promise<Adapter> {
    assertUserId(user);
    let updateThrew = false;
    const tracked: AdapterUpdate = async (current) => {
      try {
        return await update(current);
      } catch (error) {
        updateThrew = true;
        throw error;
      }
    };
    let next: Adapter;
    try {
      next = await this.#store.update(user, tracked, options);
    } catch (error) {
      if (!updateThrew && !nothingWritten(error)) this.#unsure(user);
      throw error;
    }
    this.invalidate(user);
    this.#lru?.set(user, { adapter: next });
    return next;
  }

  async delete(user: string): Promise<boolean> {
    assertUserId(user);
    try {
      return await this.#store.delete(user);
    } finally {
      this.invalidate(user);
    }
  }

  count(): Promise<number> {
    return this.#store.count();
  }

  /** The store's health: while false, entries may miss updates made by other processes. */
  healthy(): boolean {
    return this.#store.healthy?.() ?? true;
  }

  /** The store's reads against their deadline (all zeros for a store whose reads have none). */
  readStalls(): ReadStalls {
    return this.#store.readStalls?.() ?? NO_READ_STALLS;
  }

  /** Forgets the user's entry; a load already running for the user will not be remembered. */
  invalidate(user: string): void {
    this.#lru?.delete(user);
    this.#unverified.delete(user);
    this.#loading.delete(user);
    this.#loadingWeights.delete(user);
  }

  clear(): void {
    this.#lru?.clear();
    this.#unverified.clear();
    this.#loading.clear();
    this.#loadingWeights.clear();
  }

  stats(): AdapterCacheStats {
    return {
      ...this.#counters,
      bytes: this.#lru?.calculatedSize ?? 0,
      entries: this.#lru?.size ?? 0,
      maxBytes: this.maxBytes,
    };
  }

  /** Stops listening to the store, drops every entry, and closes the store. */
  async close(): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.clear();
    await this.#store.close();
  }

  #loadAdapter(user: string): Load<Adapter> {
    return this.#load(
      user,
      this.#loading,
      () => this.#store.get(user),
      (adapter) => ({ adapter }),
    );
  }

  #loadWeights(user: string): Load<AdapterWeights> {
    const store = this.#store as Required<Pick<AdapterStore, "getWeights">>;
    return this.#load(
      user,
      this.#loadingWeights,
      () => store.getWeights(user),
      (weights) => ({ weights }),
      // A whole adapter cached meanwhile (by get or update) holds the same weights and more.
      () => {
        const current = this.#lru?.peek(user);
        return current === undefined || isAbsent(current) || !("adapter" in current);
      },
    );
  }

  /** One shared load per user and kind; remembered only if nothing invalidated it meanwhile. */
  #load<T>(
    user: string,
    loading: Map<string, Load<T>>,
    fetch: () => Load<T>,
    wrap: (value: T) => Entry,
    replace: () => boolean = () => true,
  ): Load<T> {
    this.#counters.loads++;
    const started = performance.now();
    const load: Load<T> = fetch().then(
      (value) => {
        this.#recordLoad(started, value === undefined ? "absent" : "found");
        if (loading.get(user) === load) {
          loading.delete(user);
          if (replace()) this.#remember(user, value === undefined ? undefined : wrap(value));
        }
        return value;
      },
      (error: unknown) => {
        this.#counters.loadErrors++;
        this.#recordLoad(started, "error");
        if (loading.get(user) === load) loading.delete(user);
        throw error;
      },
    );
    loading.set(user, load);
    return load;
  }

  /**
   * A write of the user failed in a way that may have changed the store: loads already running
   * may have read the old version, so they are not remembered; an unknown-user marker goes; a
   * cached adapter stays, to be read again once the store is healthy (see #verify).
   */
  #unsure(user: string): void {
    this.#loading.delete(user);
    this.#loadingWeights.delete(user);
    const cached = this.#lru?.peek(user);
    if (cached === undefined) return;
    if (isAbsent(cached)) this.#lru?.delete(user);
    else this.#unverified.add(user);
  }

  /** An entry a failed write left unsure is dropped once the store can say what it holds. */
  #verify(user: string): void {
    if (this.#unverified.has(user) && this.healthy()) this.invalidate(user);
  }

  #remember(user: string, entry: Entry | undefined): void {
    if (entry !== undefined) this.#lru?.set(user, entry);
    else if (this.negativeTtlMs > 0) this.#lru?.set(user, ABSENT, { ttl: this.negativeTtlMs });
  }

  #recordLoad(started: number, outcome: LoadOutcome): void {
    const seconds = (performance.now() - started) / 1000;
    this.#counters.loadSeconds += seconds;
    this.#onLoad?.(seconds, outcome);
  }
}
