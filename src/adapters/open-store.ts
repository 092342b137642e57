import type { ReadStallEvent } from "./file/read-stall.js";
import { FileAdapterStore } from "./file/store.js";
import type { AdapterShape, AdapterStore } from "./types.js";

export type { ReadStallEvent } from "./file/read-stall.js";

export interface OpenStoreOptions {
  /**
   * Hash of the head the store's adapters are served with: adapters of another head are then read
   * whatever their shape (they are stale), instead of failing on it.
   */
  headHash?: string;
  /** Redis connection errors (one per failed reconnection attempt while Redis is away), for logs. */
  onConnectionError?: (error: Error) => void;
  /** A directory store: how long one user's read may take before it fails as stalled. */
  readTimeoutMs?: number;
  /** A directory store: stalled reads, and stuck reads that return, for logs. */
  onReadStall?: (event: ReadStallEvent) => void;
}

/** `--adapters` takes a directory, or a redis:// (rediss://) URL. */
export async function openAdapterStore(
  spec: string,
  shape: AdapterShape,
  options: OpenStoreOptions = {},
): Promise<AdapterStore> {
  if (/^rediss?:\/\//i.test(spec)) {
    // Loaded on demand: deployments on a directory never load the Redis client.
    const { RedisAdapterStore } = await import("./redis/store.js");
    const { onConnectionError } = options;
    return RedisAdapterStore.open({
      url: spec,
      shape,
      ...(options.headHash === undefined ? {} : { headHash: options.headHash }),
      ...(onConnectionError && { onConnectionError }),
    });
  }
  const { readTimeoutMs, onReadStall, headHash } = options;
  return FileAdapterStore.open({
    root: spec,
    shape,
    ...(headHash === undefined ? {} : { headHash }),
    ...(readTimeoutMs === undefined ? {} : { readTimeoutMs }),
    ...(onReadStall === undefined ? {} : { onReadStall }),
  });
}
