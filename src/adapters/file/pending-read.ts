import { AdapterError, type AdapterErrorCode } from "../errors.js";
import type { AdapterShape, AdapterWeights } from "../types.js";
import { FILE_IO } from "./file-io.js";
import {
  READ_ABSENT,
  READ_FILE,
  READ_FOUND,
  type ReadFailure,
  type ReadKind,
  type ReadReply,
} from "./read-worker-protocol.js";

/** One user's read, queued or out on a thread, until a reply or a failure settles it. */
export interface PendingRead {
  user: string;
  kind: ReadKind;
  resolve: (value: AdapterWeights | Uint8Array | undefined) => void;
  reject: (error: unknown) => void;
}

/** Settles the reads of a batch, in request order, from its thread's reply. */
export function deliverReply(batch: PendingRead[], reply: ReadReply, shape: AdapterShape): void {
  const { k, m } = shape;
  const width = k * m;
  batch.forEach((pending, i) => {
    const status = reply.status[i];
    if (status === READ_ABSENT) pending.resolve(undefined);
    else if (status !== READ_FOUND) {
      pending.reject(failureError(pending.user, reply.failures[i] ?? null));
    } else if (pending.kind === READ_FILE) pending.resolve(reply.files[i] ?? undefined);
    else {
      pending.resolve({
        user: pending.user,
        version: reply.versions[i]!,
        headHash: reply.headHashes[i]!,
        k,
        m,
        W: reply.W.slice(i * width, (i + 1) * width),
      });
    }
  });
}

/** The reader was closed (an AdapterError), or the batch's thread died: `error` says why. */
export function failReads(batch: PendingRead[], error: unknown): void {
  const reason = error instanceof Error ? error.message : String(error);
  for (const pending of batch) {
    pending.reject(
      error instanceof AdapterError
        ? error
        : new AdapterError(
            "STORE_UNAVAILABLE",
            `adapter store could not read the adapter of user ${pending.user} (${reason})`,
            { user: pending.user },
          ),
    );
  }
}

function failureError(user: string, failure: ReadFailure | null): AdapterError {
  if (failure?.adapterCode !== undefined) {
    return new AdapterError(failure.adapterCode as AdapterErrorCode, failure.message, { user });
  }
  const cause = Object.assign(new Error(failure?.message ?? "read failed"), {
    code: failure?.ioCode,
  });
  return FILE_IO.userError(user, "read", cause);
}
