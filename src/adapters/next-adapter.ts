import type { Adapter, AdapterDraft, AdapterShape } from "./types.js";
import { checkAdapterContent } from "./validate.js";

/**
 * The adapter an update stores: the draft checked against the head's shape and copied, with the
 * next version, the first version's creation time and a fresh update time.
 */
export function nextAdapter(
  user: string,
  current: Adapter | undefined,
  draft: AdapterDraft,
  shape: AdapterShape,
): Adapter {
  if (typeof draft !== "object" || draft === null) {
    throw new TypeError(`expected update to return an adapter draft, got ${String(draft)}`);
  }
  checkAdapterContent(draft, { user, shape, invalidCode: "INVALID_ADAPTER" });
  const now = new Date().toISOString();
  const next: Adapter = {
    user,
    version: (current?.version ?? 0) + 1,
    headHash: draft.headHash,
    createdAt: current?.createdAt ?? now,
    updatedAt: now,
    k: draft.k,
    m: draft.m,
    W: draft.W.slice(),
    nPairs: draft.nPairs,
    metrics: { ...draft.metrics },
  };
  if (draft.posterior !== undefined) {
    next.posterior = { cholesky: draft.posterior.cholesky.slice(), lambda: draft.posterior.lambda };
  }
  if (draft.pairs !== undefined) {
    next.pairs = { g: draft.pairs.g.slice(), o: draft.pairs.o.slice() };
  }
  return next;
}
