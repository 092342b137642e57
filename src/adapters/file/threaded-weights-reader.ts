import type { Worker } from "node:worker_threads";
import { spawnModuleWorker } from "../../threads/spawn-worker.js";
import { AdapterError, type AdapterErrorCode } from "../errors.js";
import { storeClosedError } from "../store-io.js";
import type { AdapterWeights, ReadStalls } from "../types.js";
import { FILE_IO } from "./file-io.js";
import {
  PROGRESS_BATCH,
  PROGRESS_INDEX,
  PROGRESS_SINCE,
  PROGRESS_SLOTS,
  READ_ABSENT,
  READ_FILE,
  READ_FOUND,
  READ_WEIGHTS,
  type ReadFailure,
  type ReadKind,
  type ReadReply,
  type ReadRequest,
  type ReadThreadData,
  type ReadWorkerData,
} from "./read-worker-protocol.js";

/** Users per message: bounds the reply's size and the wait of the last user in a batch. */
export const MAX_READ_BATCH = 256;
/** How long reads wait for others to share their message while they arrive densely. */
export const GATHER_MS = 1;
/** How long close() waits for the thread to stop. */
export const CLOSE_WAIT_MS = 1000;
/** How long one user's read may take before it counts as stalled, unless told otherwise. */
export const DEFAULT_READ_TIMEOUT_MS = 2000;
/**
 * Threads alive at most: the one in use and those left behind in reads that stalled. A thread
 * blocked in a read of a hung disk cannot be interrupted; it exits once its read returns.
 */
export const MAX_READER_THREADS = 8;
/** How long a new thread may take to start, beyond the read deadline, before it is given up. */
const START_GRACE_MS = 10_000;
/** Shortest wait before the file of a user whose read stalled is tried again. */
const MIN_RETRY_MS = 1000;
/** Users whose read stalled and who were not read since are forgotten after this long. */
const STALLED_USER_TTL_MS = 10 * 60_000;
/** Weight of the newest gap in the running mean time between reads. */
const GAP_SMOOTHING = 0.1;
/** Longer pauses count as this long, so a busy spell after a quiet one is noticed within ~50 reads. */
const MAX_GAP_MS = 100;

/** What the reader reports, for logs: user ids appear, as in the store's own errors. */
export type ReadStallEvent =
  /** A read passed its deadline: its user fails, the others of its batch go to a fresh thread. */
  | {
      type: "stalled";
      user: string;
      waitedMs: number;
      stuckThreads: number;
      retryAfterSeconds: number;
    }
  /** A new thread did not take its first batch in time; the batch failed. */
  | { type: "start-stalled"; users: number; waitedMs: number; stuckThreads: number }
  /** No thread is left to read with: every read fails at once until a stuck one returns. */
  | { type: "saturated"; stuckThreads: number }
  /** A thread left behind got its read back and exited. */
  | { type: "returned"; stuckMs: number; stuckThreads: number };

export interface ThreadedReaderOptions {
  /** A user's read that has not returned after this long fails; default DEFAULT_READ_TIMEOUT_MS. */
  readTimeoutMs?: number;
  onStall?: (event: ReadStallEvent) => void;
}

/** A STORE_STALLED failure, with when a retry may succeed. */
export class StoreStalledError extends AdapterError {
  readonly retryAfterSeconds: number;

  constructor(message: string, retryAfterSeconds: number, user?: string) {
    super("STORE_STALLED", message, user === undefined ? {} : { user });
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

interface Pending {
  user: string;
  kind: ReadKind;
  resolve: (value: AdapterWeights | Uint8Array | undefined) => void;
  reject: (error: unknown) => void;
}

interface Batch {
  id: number;
  pending: Pending[];
  sentAt: number;
  timer: NodeJS.Timeout | undefined;
}

interface ReaderThread {
  worker: Worker;
  progress: Int32Array;
  /** The batch out on it; at most one. */
  batch: Batch | undefined;
  /** When it was left behind in a stalled read. */
  leftAt: number | undefined;
  /** Terminated by close(). */
  closed: boolean;
}

/** Milliseconds on a clock every thread reads alike. */
function clockMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Reads adapters on a worker thread, many users to a message: while a batch is out the next one
 * gathers, and reads that arrive more often than one per GATHER_MS wait up to that long for
 * company. A message costs the event loop about as much as reading one file itself (three
 * syscalls and a header parse), so batching is what makes the thread pay. The thread starts on
 * the first read and again after a crash; a crash fails only the batch it was reading.
 *
 * The thread says in shared memory which user it is reading and since when. A read that passes
 * the deadline fails for its user alone (STORE_STALLED, with a retry time): the thread is left
 * behind, blocked in its read, and the other users of its batch go to a fresh thread. Until the
 * retry time that user's reads fail at once rather than tie up another thread. At most
 * MAX_READER_THREADS are alive; with all of them stuck, reads fail at once until one returns.
 */
export class ThreadedWeightsReader {
  readonly #data: ReadWorkerData;
  readonly #readTimeoutMs: number;
  readonly #retryMs: number;
  readonly #onStall: ThreadedReaderOptions["onStall"];
  /** Where the threads' clock readings count from, so that they fit an Int32. */
  readonly #epoch = clockMs();
  readonly #threads = new Set<ReaderThread>();
  #current: ReaderThread | undefined;
  #queue: Pending[] = [];
  #flushPending = false;
  #nextId = 1;
  #lastRead = performance.now();
  #meanGapMs = MAX_GAP_MS;
  /** User → when a read of it may be tried again, for users whose read stalled. */
  #stalledUsers = new Map<string, number>();
  #stalls = 0;
  #saturationReported = false;
  #closed = false;

  constructor(data: ReadWorkerData, options: ThreadedReaderOptions = {}) {
    const readTimeoutMs = options.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS;
    if (!Number.isSafeInteger(readTimeoutMs) || readTimeoutMs < 1) {
      throw new TypeError(`expected readTimeoutMs to be a positive integer, got ${readTimeoutMs}`);
    }
    this.#data = { prefix: data.prefix, shape: { ...data.shape }, maxBytes: data.maxBytes };
    if (data.headHash !== undefined) this.#data.headHash = data.headHash;
    this.#readTimeoutMs = readTimeoutMs;
    this.#retryMs = Math.max(MIN_RETRY_MS, readTimeoutMs);
    this.#onStall = options.onStall;
  }

  get readTimeoutMs(): number {
    return this.#readTimeoutMs;
  }

  /** The user's header and W, as scoring needs them. */
  read(user: string): Promise<AdapterWeights | undefined> {
    return this.#enqueue(user, READ_WEIGHTS) as Promise<AdapterWeights | undefined>;
  }

  /** The user's whole file, undefined when there is none. */
  readFile(user: string): Promise<Uint8Array | undefined> {
    return this.#enqueue(user, READ_FILE) as Promise<Uint8Array | undefined>;
  }

  readStalls(): ReadStalls {
    const now = performance.now();
    let stalledUsers = 0;
    for (const retryAt of this.#stalledUsers.values()) if (retryAt > now) stalledUsers++;
    let stuckThreads = 0;
    let threadsInReads = 0;
    for (const thread of this.#threads) {
      if (thread.leftAt !== undefined) stuckThreads++;
      if (thread.leftAt !== undefined || thread.closed || thread.batch !== undefined) {
        threadsInReads++;
      }
    }
    return {
      stalls: this.#stalls,
      stuckThreads,
      threadsInReads,
      stalledUsers,
      saturated: this.#saturated(),
    };
  }

  /** Stops the thread at once, as a crash would: the batch in flight fails, later reads restart it. */
  async kill(): Promise<void> {
    await this.#current?.worker.terminate();
  }

  /** Stops the threads; reads in flight or queued fail with STORE_UNAVAILABLE. */
  async close(): Promise<void> {
    this.#closed = true;
    const closed = storeClosedError();
    const current = this.#current;
    this.#current = undefined;
    for (const thread of this.#threads) {
      const batch = thread.batch;
      thread.batch = undefined;
      if (batch !== undefined) {
        clearTimeout(batch.timer);
        for (const pending of batch.pending) pending.reject(closed);
      }
      if (thread.leftAt === undefined) {
        thread.closed = true;
        if (thread !== current) void thread.worker.terminate();
      }
    }
    for (const pending of this.#queue.splice(0)) pending.reject(closed);
    if (current === undefined) return;
    // A thread blocked in a read of a stalled disk takes its termination only when the read
    // returns; shutdown does not wait for that (the thread is unref'd; see readStalls()).
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, CLOSE_WAIT_MS);
      timer.unref();
    });
    await Promise.race([current.worker.terminate(), gaveUp]);
    clearTimeout(timer);
  }

  #enqueue(user: string, kind: ReadKind): Promise<AdapterWeights | Uint8Array | undefined> {
    if (this.#closed) return Promise.reject(storeClosedError());
    const refused = this.#refusal(user);
    if (refused !== undefined) return Promise.reject(refused);
    return new Promise((resolve, reject) => {
      this.#queue.push({ user, kind, resolve, reject });
      const now = performance.now();
      const gap = Math.min(now - this.#lastRead, MAX_GAP_MS);
      this.#meanGapMs += GAP_SMOOTHING * (gap - this.#meanGapMs);
      this.#lastRead = now;
      if (this.#current?.batch !== undefined || this.#flushPending) return;
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

  /** Why a read of `user` fails at once, if it does: its last read stalled, or no thread is left. */
  #refusal(user: string): StoreStalledError | undefined {
    if (this.#saturated()) return this.#saturatedError();
    const retryAt = this.#stalledUsers.get(user);
    if (retryAt === undefined) return undefined;
    const now = performance.now();
    if (now < retryAt) return this.#stalledError(user, retryAt - now);
    // A retry that stalls again leaves one more thread behind: it is tried only while that
    // leaves room for a replacement and for the stall of someone else.
    if (this.#stuckThreads() > MAX_READER_THREADS - 3) {
      this.#stalledUsers.set(user, now + this.#retryMs);
      return this.#stalledError(user, this.#retryMs);
    }
    return undefined;
  }

  #send(): void {
    if (this.#closed || this.#queue.length === 0 || this.#current?.batch !== undefined) return;
    const thread = this.#current ?? this.#startThread();
    if (thread === undefined) {
      const saturated = this.#saturatedError();
      for (const pending of this.#queue.splice(0)) pending.reject(saturated);
      return;
    }
    const pending = this.#queue.splice(0, MAX_READ_BATCH);
    const batch: Batch = {
      id: this.#nextId++,
      pending,
      sentAt: performance.now(),
      timer: undefined,
    };
    thread.batch = batch;
    const request: ReadRequest = {
      id: batch.id,
      users: pending.map((p) => p.user),
      kinds: Uint8Array.from(pending, (p) => p.kind),
    };
    try {
      thread.worker.postMessage(request);
    } catch (error) {
      thread.batch = undefined;
      this.#fail(pending, error);
      this.#send();
      return;
    }
    this.#arm(thread, batch, this.#readTimeoutMs);
  }

  /**
   * The deadline's timer keeps the process alive while a batch is out (the thread, unref'd, does
   * not): a command awaiting a read is not cut short, and a stalled one fails at its deadline.
   */
  #arm(thread: ReaderThread, batch: Batch, delayMs: number): void {
    batch.timer = setTimeout(() => this.#check(thread, batch), Math.max(1, Math.ceil(delayMs)));
  }

  /** At a deadline of the batch: is the thread still on the same user, and for how long? */
  #check(thread: ReaderThread, batch: Batch): void {
    if (thread.batch !== batch) return;
    const started = Atomics.load(thread.progress, PROGRESS_BATCH) === batch.id;
    if (!started) {
      const waited = performance.now() - batch.sentAt;
      const limit = this.#readTimeoutMs + START_GRACE_MS;
      if (waited < limit) this.#arm(thread, batch, Math.min(this.#readTimeoutMs, limit - waited));
      else this.#startStalled(thread, batch, waited);
      return;
    }
    // The thread writes the time, then the index: read in the other order, the time is never
    // older than the index's.
    const index = Atomics.load(thread.progress, PROGRESS_INDEX);
    const since = Atomics.load(thread.progress, PROGRESS_SINCE);
    if (index >= batch.pending.length) {
      // All read: the reply is on its way.
      this.#arm(thread, batch, this.#readTimeoutMs);
      return;
    }
    const waited = (((clockMs() - this.#epoch) | 0) - since) | 0;
    if (waited < this.#readTimeoutMs) this.#arm(thread, batch, this.#readTimeoutMs - waited);
    else this.#stalled(thread, batch, index, waited);
  }

  /** The read of the index-th user of the batch stalled: fail it, leave the thread, go on. */
  #stalled(thread: ReaderThread, batch: Batch, index: number, waitedMs: number): void {
    const { user } = batch.pending[index]!;
    this.#leave(thread, batch);
    this.#stalls++;
    const now = performance.now();
    for (const [other, retryAt] of this.#stalledUsers) {
      if (retryAt < now - STALLED_USER_TTL_MS) this.#stalledUsers.delete(other);
    }
    this.#stalledUsers.set(user, now + this.#retryMs);
    const error = this.#stalledError(user, this.#retryMs);
    // Every read of that user fails alike, queued ones too (each would stall a thread again);
    // the others of the batch are read again, first in line.
    const notTheUser = (pending: Pending) => {
      if (pending.user !== user) return true;
      pending.reject(error);
      return false;
    };
    this.#queue = [...batch.pending.filter(notTheUser), ...this.#queue.filter(notTheUser)];
    this.#report({
      type: "stalled",
      user,
      waitedMs: Math.round(waitedMs),
      stuckThreads: this.#stuckThreads(),
      retryAfterSeconds: error.retryAfterSeconds,
    });
    this.#noteSaturation();
    this.#send();
  }

  /** A new thread did not take its first batch: its users fail, and the next batch gets another. */
  #startStalled(thread: ReaderThread, batch: Batch, waitedMs: number): void {
    this.#leave(thread, batch);
    this.#stalls++;
    const seconds = Math.ceil(this.#retryMs / 1000);
    for (const pending of batch.pending) {
      pending.reject(
        new StoreStalledError(
          `adapter store could not start reading the adapter of user ${pending.user} within ${Math.round(waitedMs)} ms; retry after ${seconds} s`,
          seconds,
          pending.user,
        ),
      );
    }
    this.#report({
      type: "start-stalled",
      users: batch.pending.length,
      waitedMs: Math.round(waitedMs),
      stuckThreads: this.#stuckThreads(),
    });
    this.#noteSaturation();
    this.#send();
  }

  /** Gives up on the thread's batch and on the thread: it exits once its read returns. */
  #leave(thread: ReaderThread, batch: Batch): void {
    clearTimeout(batch.timer);
    thread.batch = undefined;
    thread.leftAt = performance.now();
    if (this.#current === thread) this.#current = undefined;
    thread.worker.terminate().catch(() => {});
  }

  #startThread(): ReaderThread | undefined {
    if (this.#threads.size >= MAX_READER_THREADS) {
      this.#noteSaturation();
      return undefined;
    }
    const shared = new SharedArrayBuffer(PROGRESS_SLOTS * Int32Array.BYTES_PER_ELEMENT);
    const data: ReadThreadData = { ...this.#data, progress: shared, epoch: this.#epoch };
    const worker = spawnModuleWorker(new URL("./read-worker.js", import.meta.url), data);
    worker.unref();
    const thread: ReaderThread = {
      worker,
      progress: new Int32Array(shared),
      batch: undefined,
      leftAt: undefined,
      closed: false,
    };
    worker.on("message", (reply: ReadReply) => this.#replied(thread, reply));
    worker.on("error", (error) => this.#lost(thread, `reader thread failed: ${error.message}`));
    worker.on("exit", (code) => {
      this.#lost(thread, `reader thread exited with code ${code}`);
      this.#exited(thread);
    });
    this.#threads.add(thread);
    this.#current = thread;
    return thread;
  }

  #replied(thread: ReaderThread, reply: ReadReply): void {
    const batch = thread.batch;
    // A batch given up on (stalled, closed) is answered elsewhere already.
    if (batch === undefined || batch.id !== reply.id) return;
    clearTimeout(batch.timer);
    thread.batch = undefined;
    this.#deliver(batch.pending, reply);
    this.#send();
  }

  /** The thread failed or exited: its batch, if any, fails; later reads start another. */
  #lost(thread: ReaderThread, reason: string): void {
    if (this.#current === thread) this.#current = undefined;
    const batch = thread.batch;
    if (batch === undefined) return;
    clearTimeout(batch.timer);
    thread.batch = undefined;
    this.#fail(batch.pending, new Error(reason));
    this.#send();
  }

  #exited(thread: ReaderThread): void {
    this.#threads.delete(thread);
    if (thread.leftAt === undefined) return;
    this.#saturationReported = false;
    this.#report({
      type: "returned",
      stuckMs: Math.round(performance.now() - thread.leftAt),
      stuckThreads: this.#stuckThreads(),
    });
    this.#send();
  }

  #deliver(batch: Pending[], reply: ReadReply): void {
    const { k, m } = this.#data.shape;
    const width = k * m;
    batch.forEach((pending, i) => {
      if (this.#stalledUsers.size > 0) this.#stalledUsers.delete(pending.user);
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
  }

  #stuckThreads(): number {
    let stuck = 0;
    for (const thread of this.#threads) if (thread.leftAt !== undefined) stuck++;
    return stuck;
  }

  #saturated(): boolean {
    return this.#current === undefined && this.#threads.size >= MAX_READER_THREADS;
  }

  /** Reports, once until a thread returns, that no thread is left to read with. */
  #noteSaturation(): void {
    if (this.#saturationReported || !this.#saturated()) return;
    this.#saturationReported = true;
    this.#report({ type: "saturated", stuckThreads: this.#stuckThreads() });
  }

  #stalledError(user: string, waitMs: number): StoreStalledError {
    const seconds = Math.max(1, Math.ceil(waitMs / 1000));
    return new StoreStalledError(
      `adapter store stalled reading the adapter of user ${user} (no answer within ${this.#readTimeoutMs} ms); retry after ${seconds} s`,
      seconds,
      user,
    );
  }

  #saturatedError(): StoreStalledError {
    const seconds = Math.ceil(this.#retryMs / 1000);
    return new StoreStalledError(
      `adapter store stalled: ${this.#stuckThreads()} reads have not returned; retry after ${seconds} s`,
      seconds,
    );
  }

  #report(event: ReadStallEvent): void {
    try {
      this.#onStall?.(event);
    } catch {
      // A listener's failure is not the reader's.
    }
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
