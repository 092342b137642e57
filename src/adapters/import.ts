import { decodeAdapter } from "./format.js";
import type { Adapter, AdapterDraft, AdapterShape, AdapterStore } from "./types.js";
import { assertUserId } from "./user-id.js";

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
}

/**
 * Stores an uploaded adapter file as the user's next version. The file must name the same user
 * and fit the head; problems with it are INVALID_ADAPTER or ADAPTER_SHAPE_MISMATCH errors.
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
  return store.update(user, () => toDraft(decoded));
}
