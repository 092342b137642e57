import type { RecoveredIdentity } from "./format.js";
import type { Adapter, AdapterDraft, AdapterShape } from "./types.js";
import { checkAdapterContent } from "./validate.js";

/** What the next version follows: the current adapter, or what an unreadable one still shows. */
export type Predecessor = Pick<Adapter, "version"> & { createdAt?: string | undefined };

/**
 * The adapter an update stores: the draft checked against the head's shape and copied, with the
 * next version, the first version's creation time and a fresh update time.
 */
export function nextAdapter(
  user: string,
  current: Predecessor | undefined,
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

/**
 * What a write over an unreadable record follows: the highest version the record still shows, or,
 * when it shows none, the current Unix time in milliseconds. Versions otherwise grow by one per
 * durable write, so no counted version comes near that (it would take 1.7·10¹² writes), and the
 * version stays monotonic for any client that saw an earlier one.
 */
export function predecessorOfUnreadable(
  recovered: RecoveredIdentity,
  now: () => number = Date.now,
): Predecessor {
  return {
    version: recovered.version ?? Math.max(1, Math.floor(now())),
    createdAt: recovered.createdAt,
  };
}
