import { encodeAdapter } from "../adapters/format.js";
import { importAdapterFile } from "../adapters/import.js";
import type { Adapter, AdapterShape, AdapterStore } from "../adapters/types.js";
import { ServiceError } from "./errors.js";

/** What a client is told about a stored adapter. */
export interface UserMetadata {
  user: string;
  version: number;
  head_hash: string;
  /**
   * Fitted against another head than the one served (whatever its k×m): scoring ignores it until a
   * refit, and k and m are its own.
   */
  stale: boolean;
  created_at: string;
  updated_at: string;
  k: number;
  m: number;
  n_pairs: number;
  stored_pairs: number;
  has_posterior: boolean;
  metrics: Adapter["metrics"];
}

/** A user's stored adapter: inspect, export, import, delete. */
export class UserService {
  readonly #store: AdapterStore;
  readonly #headHash: string;
  readonly #shape: AdapterShape;
  readonly #maxStoredPairs: number | undefined;

  constructor(options: {
    store: AdapterStore;
    headHash: string;
    shape: AdapterShape;
    /** The fits' bound on stored pairs (--max-stored-pairs), which imports keep too. */
    maxStoredPairs?: number;
  }) {
    this.#store = options.store;
    this.#headHash = options.headHash;
    this.#shape = options.shape;
    this.#maxStoredPairs = options.maxStoredPairs;
  }

  async metadata(user: string): Promise<UserMetadata> {
    const adapter = await this.#require(user);
    return {
      user: adapter.user,
      version: adapter.version,
      head_hash: adapter.headHash,
      stale: adapter.headHash !== this.#headHash,
      created_at: adapter.createdAt,
      updated_at: adapter.updatedAt,
      k: adapter.k,
      m: adapter.m,
      n_pairs: adapter.nPairs,
      stored_pairs: adapter.pairs ? adapter.pairs.o.length : 0,
      has_posterior: adapter.posterior !== undefined,
      metrics: adapter.metrics,
    };
  }

  /** The adapter as a safetensors file, and its version. */
  async export(user: string): Promise<{ version: number; bytes: Uint8Array }> {
    const adapter = await this.#require(user);
    return { version: adapter.version, bytes: encodeAdapter(adapter) };
  }

  /**
   * Stores an uploaded safetensors adapter as the user's next version, also over a stored adapter
   * that no longer decodes (the version still goes up).
   */
  async import(
    user: string,
    bytes: Uint8Array,
  ): Promise<{ user: string; version: number; stale: boolean }> {
    const adapter = await importAdapterFile(this.#store, user, bytes, {
      shape: this.#shape,
      ...(this.#maxStoredPairs === undefined ? {} : { maxStoredPairs: this.#maxStoredPairs }),
    });
    return {
      user: adapter.user,
      version: adapter.version,
      stale: adapter.headHash !== this.#headHash,
    };
  }

  /** Deletes the adapter and every pair statistic stored for the user (idempotent). */
  async delete(user: string): Promise<void> {
    await this.#store.delete(user);
  }

  async #require(user: string): Promise<Adapter> {
    const adapter = await this.#store.get(user);
    if (!adapter) throw new ServiceError("USER_NOT_FOUND", "No adapter is stored for this user");
    return adapter;
  }
}
