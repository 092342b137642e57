import { FileAdapterStore } from "./file/store.js";
import type { AdapterShape, AdapterStore } from "./types.js";

export interface OpenStoreOptions {
  /** Redis connection errors (one per failed reconnection attempt while Redis is away), for logs. */
  onConnectionError?: (error: Error) => void;
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
      ...(onConnectionError && { onConnectionError }),
    });
  }
  return FileAdapterStore.open({ root: spec, shape });
}
