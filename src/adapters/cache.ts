import { LRUCache } from "lru-cache";
import { adapterByteSize } from "./adapter-size.js";
import type { Adapter, AdapterStore, AdapterUpdate } from "./types.js";
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
type Entry = Adapter | typeof ABSENT;

function isAbsent(entry: Entry): entry is typeof ABSENT {
  return entry === ABSENT;
}

/** Marker for an unknown user: its key plus bookkeeping. */
const NEGATIVE_ENTRY_BYTES = 160;

/**
 * Byte-bounded LRU in front of an AdapterStore. Concurrent gets of one user share one load; a
 * failed load is not remembered; writes through the cache (and invalidations the store reports)
 * drop the user's entry at once. Returned adapters are shared: treat them as read-only.
 */
export class AdapterCache implements AdapterStore {
  readonly maxBytes: number;
  readonly negativeTtlMs: number;
  #store: AdapterStore;
  #lru: LRUCache<string, Entry> | undefined;
  #loading = new Map<string, Promise<Adapter | undefined>>();
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
        sizeCalculation: (entry, user) =>
          2 * user.length + (isAbsent(entry) ? NEGATIVE_ENTRY_BYTES : adapterByteSize(entry)),
        ttlResolution: 0,
        ...(options.clock === undefined ? {} : { perf: options.clock }),
        dispose: (_entry, _user, reason) => {
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
    const cached = this.#lru?.get(user);
    if (cached !== undefined && isAbsent(cached)) {
      this.#counters.negativeHits++;
      return undefined;
    }
    if (cached !== undefined) {
      this.#counters.hits++;
      return cached;
    }
    this.#counters.misses++;
    return this.#loading.get(user) ?? this.#load(user);
  }

  async update(user: string, update: AdapterUpdate): Promise<Adapter> {
    assertUserId(user);
    let next: Adapter;
    try {
      next = await this.#store.update(user, update);
    } finally {
      this.invalidate(user);
    }
    this.#lru?.set(user, next);
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

  /** Forgets the user's entry; a load already running for the user will not be remembered. */
  invalidate(user: string): void {
    this.#lru?.delete(user);
    this.#loading.delete(user);
  }

  clear(): void {
    this.#lru?.clear();
    this.#loading.clear();
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

  #load(user: string): Promise<Adapter | undefined> {
    this.#counters.loads++;
    const started = performance.now();
    const loading: Promise<Adapter | undefined> = this.#fetch(user).then(
      (adapter) => {
        this.#recordLoad(started, adapter === undefined ? "absent" : "found");
        if (this.#loading.get(user) === loading) {
          this.#loading.delete(user);
          this.#remember(user, adapter);
        }
        return adapter;
      },
      (error: unknown) => {
        this.#counters.loadErrors++;
        this.#recordLoad(started, "error");
        if (this.#loading.get(user) === loading) this.#loading.delete(user);
        throw error;
      },
    );
    this.#loading.set(user, loading);
    return loading;
  }

  async #fetch(user: string): Promise<Adapter | undefined> {
    return this.#store.get(user);
  }

  #remember(user: string, adapter: Adapter | undefined): void {
    if (adapter !== undefined) this.#lru?.set(user, adapter);
    else if (this.negativeTtlMs > 0) this.#lru?.set(user, ABSENT, { ttl: this.negativeTtlMs });
  }

  #recordLoad(started: number, outcome: LoadOutcome): void {
    const seconds = (performance.now() - started) / 1000;
    this.#counters.loadSeconds += seconds;
    this.#onLoad?.(seconds, outcome);
  }
}
