import type { Worker } from "node:worker_threads";
import { spawnModuleWorker } from "../../threads/spawn-worker.js";
import type { PendingRead } from "./pending-read.js";
import {
  PROGRESS_BATCH,
  PROGRESS_INDEX,
  PROGRESS_SINCE,
  PROGRESS_SLOTS,
  type ReadReply,
  type ReadRequest,
  type ReadThreadData,
  type ReadWorkerData,
} from "./read-worker-protocol.js";

/** Milliseconds on a clock every thread reads alike. */
export function clockMs(): number {
  return performance.timeOrigin + performance.now();
}

/** One message of reads, out on a thread. */
export interface Batch {
  readonly id: number;
  readonly pending: PendingRead[];
  /** performance.now() when it was posted. */
  readonly sentAt: number;
}

/** Where the thread is in its batch, as it says in shared memory. */
export type Progress =
  /** It has not taken the batch yet, `waitedMs` after it was posted. */
  | { state: "not-started"; waitedMs: number }
  /** It has been reading the batch's index-th user for `waitedMs`. */
  | { state: "reading"; index: number; waitedMs: number }
  /** All read: the reply is on its way. */
  | { state: "read" };

/**
 * What a thread tells its owner. A batch comes back once: with its reply, with the loss of its
 * thread, or by take() or leave(); a reply to a batch taken back is dropped.
 */
export interface ReaderThreadEvents {
  /** The thread answered its batch. */
  replied(batch: Batch, reply: ReadReply): void;
  /** The thread failed or exited, with its batch if it had one out. */
  lost(thread: ReaderThread, batch: Batch | undefined, reason: string): void;
  /** The thread exited (told after lost). */
  exited(thread: ReaderThread): void;
}

/**
 * One worker thread of the reader, with at most one batch out. It gets a shared buffer at spawn
 * where it says which batch it reads, which user of it and since when (see ReadThreadData); the
 * owner reads that at the batch's deadline to tell a read that stalls, and whose, from a batch
 * that is long.
 */
export class ReaderThread {
  readonly #worker: Worker;
  readonly #progress: Int32Array;
  readonly #epoch: number;
  #batch: Batch | undefined;
  #timer: NodeJS.Timeout | undefined;
  #nextId = 1;
  #leftAt: number | undefined;
  #closed = false;

  /** `epoch`: where the thread's clock readings count from (clockMs()), so they fit an Int32. */
  constructor(data: ReadWorkerData, epoch: number, events: ReaderThreadEvents) {
    const shared = new SharedArrayBuffer(PROGRESS_SLOTS * Int32Array.BYTES_PER_ELEMENT);
    const threadData: ReadThreadData = { ...data, progress: shared, epoch };
    const worker = spawnModuleWorker(new URL("./read-worker.js", import.meta.url), threadData);
    worker.unref();
    this.#worker = worker;
    this.#progress = new Int32Array(shared);
    this.#epoch = epoch;
    worker.on("message", (reply: ReadReply) => {
      // A batch given up on (stalled, closed) is answered elsewhere already.
      if (this.#batch?.id !== reply.id) return;
      events.replied(this.take()!, reply);
    });
    worker.on("error", (error) => {
      events.lost(this, this.take(), `reader thread failed: ${error.message}`);
    });
    worker.on("exit", (code) => {
      events.lost(this, this.take(), `reader thread exited with code ${code}`);
      events.exited(this);
    });
  }

  /** The batch out on it; at most one. */
  get batch(): Batch | undefined {
    return this.#batch;
  }

  /** When it was left behind in a stalled read. */
  get leftAt(): number | undefined {
    return this.#leftAt;
  }

  /**
   * In a read now, or maybe: with a batch out, left behind in one, or terminated by close(),
   * which a thread blocked in a read takes only once the read returns.
   */
  get inRead(): boolean {
    return this.#leftAt !== undefined || this.#closed || this.#batch !== undefined;
  }

  /** Posts the reads as its batch (it has none out); throws what postMessage throws. */
  send(pending: PendingRead[]): Batch {
    const batch: Batch = { id: this.#nextId++, pending, sentAt: performance.now() };
    const request: ReadRequest = {
      id: batch.id,
      users: pending.map((p) => p.user),
      kinds: Uint8Array.from(pending, (p) => p.kind),
    };
    this.#worker.postMessage(request);
    this.#batch = batch;
    return batch;
  }

  /**
   * Runs `check` in `delayMs` unless the batch comes back first. The timer keeps the process
   * alive while a batch is out (the thread, unref'd, does not): a command awaiting a read is not
   * cut short, and a stalled one fails at its deadline.
   */
  arm(delayMs: number, check: () => void): void {
    this.#timer = setTimeout(check, Math.max(1, Math.ceil(delayMs)));
  }

  /** Where the thread is in `batch`, its batch out. */
  progress(batch: Batch): Progress {
    if (Atomics.load(this.#progress, PROGRESS_BATCH) !== batch.id) {
      return { state: "not-started", waitedMs: performance.now() - batch.sentAt };
    }
    // The thread writes the time, then the index: read in the other order, the time is never
    // older than the index's.
    const index = Atomics.load(this.#progress, PROGRESS_INDEX);
    const since = Atomics.load(this.#progress, PROGRESS_SINCE);
    if (index >= batch.pending.length) return { state: "read" };
    return { state: "reading", index, waitedMs: (((clockMs() - this.#epoch) | 0) - since) | 0 };
  }

  /** Takes back the batch out, if any, and stops its deadline: its reply will be dropped. */
  take(): Batch | undefined {
    const batch = this.#batch;
    this.#batch = undefined;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    return batch;
  }

  /** Gives up on the thread and takes back its batch: the thread exits once its read returns. */
  leave(): Batch | undefined {
    const batch = this.take();
    this.#leftAt = performance.now();
    this.#worker.terminate().catch(() => {});
    return batch;
  }

  /** Stops the thread at once, as a crash would: its batch is lost. */
  async kill(): Promise<void> {
    await this.#worker.terminate();
  }

  /**
   * Stops the thread for good; settles once it has stopped, or after `waitMs` if given. A thread
   * blocked in a read of a stalled disk takes its termination only when the read returns.
   */
  async close(waitMs?: number): Promise<void> {
    this.#closed = true;
    if (waitMs === undefined) {
      await this.#worker.terminate();
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, waitMs);
      timer.unref();
    });
    await Promise.race([this.#worker.terminate(), gaveUp]);
    clearTimeout(timer);
  }
}
