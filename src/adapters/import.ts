import { decodeAdapter } from "./format.js";
import type { Adapter, AdapterDraft, AdapterShape, AdapterStore } from "./types.js";
import { assertUserId } from "./user-id.js";
import { assertStoredPairs } from "./validate.js";

/** The parts of an adapter an update supplies; version, timestamps and user come from the store. */
export function toDraft(adapter: Adapter): AdapterDraft {
  const draft: AdapterDraft = {
    headHash: adapter.headHash,
    k: adapter.k,
    m: adapter.m,
    W: adapter.W,
    nPairs: adapter.nPairs,
    metrics: adapter.metrics,
  };
  if (adapter.posterior !== undefined) draft.posterior = adapter.posterior;
  if (adapter.pairs !== undefined) draft.pairs = adapter.pairs;
  return draft;
}

export interface ImportAdapterOptions {
  shape: AdapterShape;
  maxBytes?: number;
  /** Most stored pairs a file may carry (the server's --max-stored-pairs); default unbounded. */
  maxStoredPairs?: number;
}

/**
 * Stores an uploaded adapter file as the user's next version, over whatever is stored, even an
 * adapter that no longer decodes. The file must name the same user, have the head's k×m (one of
 * another head but the same shape is stored, and is stale), hold only finite numbers within
 * ADAPTER_BOUNDS and a well-conditioned posterior factor, and at most maxStoredPairs pairs.
 * Problems with it are INVALID_ADAPTER or ADAPTER_SHAPE_MISMATCH errors whose `field` names the
 * tensor or metadata key at fault.
 */
export async function importAdapterFile(
  store: AdapterStore,
  user: string,
  bytes: Uint8Array,
  options: ImportAdapterOptions,
): Promise<Adapter> {
  assertUserId(user);
  const decoded = decodeAdapter(bytes, {
    user,
    shape: options.shape,
    invalidCode: "INVALID_ADAPTER",
    ...(options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes }),
  });
  if (options.maxStoredPairs !== undefined) {
    assertStoredPairs(user, decoded, options.maxStoredPairs);
  }
  return store.update(user, () => toDraft(decoded), { unreadable: "replace" });
}
