import type { Worker } from "node:worker_threads";
import { RequestReply } from "../../threads/request-reply.js";
import { spawnModuleWorker } from "../../threads/spawn-worker.js";
import { AdapterError, type AdapterErrorCode } from "../errors.js";
import { storeClosedError } from "../store-io.js";
import type { AdapterWeights } from "../types.js";
import { FILE_IO } from "./file-io.js";
import {
  READ_ABSENT,
  READ_FOUND,
  type ReadFailure,
  type ReadReply,
  type ReadRequest,
  type ReadWorkerData,
} from "./read-worker-protocol.js";

interface Pending {
  user: string;
  resolve: (weights: AdapterWeights | undefined) => void;
  reject: (error: unknown) => void;
}

/** Users per message: bounds the reply's size and the wait of the last user in a batch. */
export const MAX_READ_BATCH = 256;
/** How long reads wait for others to share their message while they arrive densely. */
export const GATHER_MS = 1;
/** How long close() waits for the thread to stop. */
export const CLOSE_WAIT_MS = 1000;
/** Weight of the newest gap in the running mean time between reads. */
const GAP_SMOOTHING = 0.1;
/** Longer pauses count as this long, so a busy spell after a quiet one is noticed within ~50 reads. */
const MAX_GAP_MS = 100;

/**
 * Reads adapters' weights on a worker thread, many users to a message: while a batch is out the
 * next one gathers, and reads that arrive more often than one per GATHER_MS wait up to that long
 * for company. A message costs the event loop about as much as reading one file itself (three
 * syscalls and a header parse), so batching is what makes the thread pay. The thread starts on
 * the first read and again after a crash; a crash fails only the batch it was reading.
 */
export class ThreadedWeightsReader {
  readonly #data: ReadWorkerData;
  /** At most one batch: the next gathers while it is out. */
  readonly #batches = new RequestReply<ReadReply>();
  #worker: Worker | undefined;
  #queue: Pending[] = [];
  #flushPending = false;
  #lastRead = performance.now();
  #meanGapMs = MAX_GAP_MS;
  #closed = false;

  constructor(data: ReadWorkerData) {
    this.#data = { prefix: data.prefix, shape: { ...data.shape }, maxBytes: data.maxBytes };
    if (data.headHash !== undefined) this.#data.headHash = data.headHash;
  }

  read(user: string): Promise<AdapterWeights | undefined> {
    if (this.#closed) return Promise.reject(storeClosedError());
    return new Promise((resolve, reject) => {
      this.#queue.push({ user, resolve, reject });
      const now = performance.now();
      const gap = Math.min(now - this.#lastRead, MAX_GAP_MS);
      this.#meanGapMs += GAP_SMOOTHING * (gap - this.#meanGapMs);
      this.#lastRead = now;
      if (this.#batches.size > 0 || this.#flushPending) return;
      this.#flushPending = true;
      const flush = () => {
        this.#flushPending = false;
        this.#send();
      };
      // Sparse reads go at once; when they come faster than one per window, they wait to share one.
      if (this.#meanGapMs >= GATHER_MS) setImmediate(flush);
      else setTimeout(flush, GATHER_MS);
    });
  }

  /** Stops the thread at once, as a crash would: the batch in flight fails, later reads restart it. */
  async kill(): Promise<void> {
    await this.#worker?.terminate();
  }

  /** Stops the thread; reads in flight or queued fail with STORE_UNAVAILABLE. */
  async close(): Promise<void> {
    this.#closed = true;
    const worker = this.#worker;
    this.#worker = undefined;
    const closed = storeClosedError();
    this.#batches.rejectAll(closed);
    for (const pending of this.#queue.splice(0)) pending.reject(closed);
    if (worker === undefined) return;
    // A thread blocked in a read of a stalled disk takes its termination only when the read
    // returns; shutdown does not wait for that (the thread is unref'd and dies with the process).
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, CLOSE_WAIT_MS);
      timer.unref();
    });
    await Promise.race([worker.terminate(), gaveUp]);
    clearTimeout(timer);
  }

  #send(): void {
    if (this.#batches.size > 0 || this.#queue.length === 0 || this.#closed) return;
    const batch = this.#queue.splice(0, MAX_READ_BATCH);
    const users = batch.map((p) => p.user);
    this.#batches
      .request((id) => this.#ensureWorker().postMessage({ id, users } satisfies ReadRequest))
      .then(
        (reply) => this.#deliver(batch, reply),
        (error: unknown) => this.#fail(batch, error),
      );
  }

  #ensureWorker(): Worker {
    if (this.#worker !== undefined) return this.#worker;
    const worker = spawnModuleWorker(new URL("./read-worker.js", import.meta.url), this.#data);
    worker.unref();
    worker.on("message", (reply: ReadReply) => this.#batches.resolve(reply.id, reply));
    const lost = (reason: string) => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      this.#batches.rejectAll(new Error(reason));
    };
    worker.on("error", (error) => lost(`reader thread failed: ${error.message}`));
    worker.on("exit", (code) => lost(`reader thread exited with code ${code}`));
    this.#worker = worker;
    return worker;
  }

  #deliver(batch: Pending[], reply: ReadReply): void {
    const { k, m } = this.#data.shape;
    const width = k * m;
    batch.forEach((pending, i) => {
      const status = reply.status[i];
      if (status === READ_FOUND) {
        pending.resolve({
          user: pending.user,
          version: reply.versions[i]!,
          headHash: reply.headHashes[i]!,
          k,
          m,
          W: reply.W.slice(i * width, (i + 1) * width),
        });
      } else if (status === READ_ABSENT) pending.resolve(undefined);
      else pending.reject(failureError(pending.user, reply.failures[i] ?? null));
    });
    this.#send();
  }

  /** The reader was closed (an AdapterError), or the batch's thread died: `error` says why. */
  #fail(batch: Pending[], error: unknown): void {
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
    this.#send();
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
