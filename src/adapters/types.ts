/** The adapter dimensions a head expects: W is k×m. */
export interface AdapterShape {
  k: number;
  m: number;
}

/** Laplace posterior of vec(W): precision = L·Lᵀ, kept as its Cholesky factor L. */
export interface AdapterPosterior {
  /** p×p lower-triangular, row-major, p = k·m. */
  cholesky: Float64Array;
  lambda: number;
}

/** Feature differences g (n×p, row-major) and offsets o (n) of the preference pairs kept for refits. */
export interface AdapterPairs {
  g: Float32Array;
  o: Float32Array;
}

/** One user's adapter W_i, plus what its fit needs to continue. */
export interface Adapter {
  user: string;
  /** 1 for the first stored adapter of a user, +1 on every update. */
  version: number;
  /** Hash of the head W was fitted against; callers must not apply W to a different head. */
  headHash: string;
  /** ISO 8601 timestamps. */
  createdAt: string;
  updatedAt: string;
  k: number;
  m: number;
  /** k×m, row-major: W[a*m + j]. */
  W: Float32Array;
  nPairs: number;
  metrics: Record<string, number>;
  posterior?: AdapterPosterior;
  pairs?: AdapterPairs;
}

/**
 * The part of an adapter that scoring applies: W and what identifies it. For an adapter fitted
 * against another head than the store's (another headHash), W is not read: it comes back as zeros
 * of the store's k×m, which scoring never applies (it serves such users the global reward).
 */
export type AdapterWeights = Pick<Adapter, "user" | "version" | "headHash" | "k" | "m" | "W">;

/** What an update supplies; the store assigns user, version and timestamps. */
export type AdapterDraft = Omit<Adapter, "user" | "version" | "createdAt" | "updatedAt">;

export type AdapterUpdate = (current: Adapter | undefined) => Promise<AdapterDraft> | AdapterDraft;

export interface AdapterUpdateOptions {
  /**
   * What an update does when the stored adapter cannot be decoded (ADAPTER_CORRUPT, or
   * ADAPTER_SHAPE_MISMATCH for the store's own head): "fail" (default) rejects with that error and
   * changes nothing; "replace" calls `update` with undefined and writes over the damaged record.
   * Versions stay monotonic either way: the replacement is one more than the highest version the
   * damaged record still shows (recoverVersion), or, when it shows none, the current Unix time in
   * milliseconds, which no version reached by counting one per write comes near.
   */
  unreadable?: "fail" | "replace";
}

/** How a store's reads fare against their deadline (the file store reads on threads of its own). */
export interface ReadStalls {
  /** Reads that passed the deadline since the store opened. */
  stalls: number;
  /** Reader threads left behind in a read that has not returned. */
  stuckThreads: number;
  /**
   * Reader threads in a read now, stuck or not: each holds up the process's own exit until its
   * read returns, since a thread blocked in a syscall cannot be joined.
   */
  threadsInReads: number;
  /** Users whose reads fail at once until their retry time, because their last read stalled. */
  stalledUsers: number;
  /** Every reader thread is stuck: every read fails at once until one returns. */
  saturated: boolean;
}

/** What a store whose reads have no deadline (or have never stalled) reports. */
export const NO_READ_STALLS: Readonly<ReadStalls> = Object.freeze({
  stalls: 0,
  stuckThreads: 0,
  threadsInReads: 0,
  stalledUsers: 0,
  saturated: false,
});

export interface AdapterStore {
  get(user: string): Promise<Adapter | undefined>;
  /**
   * The same adapter's weights alone, for stores that can read them for less than the whole
   * adapter; only the fields of AdapterWeights are checked.
   */
  getWeights?(user: string): Promise<AdapterWeights | undefined>;
  /**
   * Serialized per user: `update` sees the current adapter (or undefined) and returns the next one;
   * the store assigns version = previous + 1 (1 for a new user) and the timestamps.
   * If `update` throws, nothing changes. An unreadable current adapter fails the update unless
   * `options.unreadable` is "replace".
   */
  update(user: string, update: AdapterUpdate, options?: AdapterUpdateOptions): Promise<Adapter>;
  /** Removes everything stored for the user; idempotent. Resolves true when something was removed. */
  delete(user: string): Promise<boolean>;
  count(): Promise<number>;
  /** Invalidations made by other processes; returns the unsubscribe function. */
  subscribe?(listener: (user: string) => void): () => void;
  /**
   * Called once the store's feed of invalidations is back after an outage, during which some
   * were lost: whatever was cached from the store must be dropped. Returns the unsubscribe function.
   */
  subscribeResync?(listener: () => void): () => void;
  /**
   * false while the store cannot be reached or its invalidations cannot arrive, so adapters cached
   * from it may be stale. A store without this method is always healthy.
   */
  healthy?(): boolean;
  /** Stores whose reads have a deadline say how they fare against it. */
  readStalls?(): ReadStalls;
  close(): Promise<void>;
}
