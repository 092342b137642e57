import { storeClosedError } from "../store-io.js";
import type { AdapterWeights, ReadStalls } from "../types.js";
import { deliverReply, failReads, type PendingRead } from "./pending-read.js";
import { ReadGathering } from "./read-gathering.js";
import {
  DEFAULT_READ_TIMEOUT_MS,
  MAX_READER_THREADS,
  MIN_RETRY_MS,
  type ReadStallEvent,
  START_GRACE_MS,
  StalledUsers,
  type StoreStalledError,
  saturatedError,
  startStalledError,
  type ThreadedReaderOptions,
  userStalledError,
} from "./read-stall.js";
import {
  READ_FILE,
  READ_WEIGHTS,
  type ReadKind,
  type ReadReply,
  type ReadWorkerData,
} from "./read-worker-protocol.js";
import { type Batch, clockMs, ReaderThread, type ReaderThreadEvents } from "./reader-thread.js";

/** Users per message: bounds the reply's size and the wait of the last user in a batch. */
export const MAX_READ_BATCH = 256;
/** How long close() waits for the thread to stop. */
export const CLOSE_WAIT_MS = 1000;

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
  readonly #threadEvents: ReaderThreadEvents = {
    replied: (batch, reply) => this.#replied(batch, reply),
    lost: (thread, batch, reason) => this.#lost(thread, batch, reason),
    exited: (thread) => this.#exited(thread),
  };
  #current: ReaderThread | undefined;
  #queue: PendingRead[] = [];
  readonly #gathering = new ReadGathering(() => this.#send());
  #stalledUsers = new StalledUsers();
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
    return {
      stalls: this.#stalls,
      stuckThreads: this.#stuckThreads(),
      threadsInReads: [...this.#threads].filter((thread) => thread.inRead).length,
      stalledUsers: this.#stalledUsers.waiting(performance.now()),
      saturated: this.#saturated(),
    };
  }

  /** Stops the thread at once, as a crash would: the batch in flight fails, later reads restart it. */
  async kill(): Promise<void> {
    await this.#current?.kill();
  }

  /** Stops the threads; reads in flight or queued fail with STORE_UNAVAILABLE. */
  async close(): Promise<void> {
    this.#closed = true;
    const closed = storeClosedError();
    const current = this.#current;
    this.#current = undefined;
    for (const thread of this.#threads) {
      const batch = thread.take();
      if (batch !== undefined) for (const pending of batch.pending) pending.reject(closed);
      if (thread.leftAt === undefined && thread !== current) void thread.close();
    }
    for (const pending of this.#queue.splice(0)) pending.reject(closed);
    // Shutdown does not wait for a thread blocked in a read (it is unref'd; see readStalls()).
    await current?.close(CLOSE_WAIT_MS);
  }

  #enqueue(user: string, kind: ReadKind): Promise<AdapterWeights | Uint8Array | undefined> {
    if (this.#closed) return Promise.reject(storeClosedError());
    const refused = this.#refusal(user);
    if (refused !== undefined) return Promise.reject(refused);
    return new Promise((resolve, reject) => {
      this.#queue.push({ user, kind, resolve, reject });
      this.#gathering.arrived(this.#current?.batch !== undefined);
    });
  }

  /** Why a read of `user` fails at once, if it does: its last read stalled, or no thread is left. */
  #refusal(user: string): StoreStalledError | undefined {
    if (this.#saturated()) return saturatedError(this.#stuckThreads(), this.#retryMs);
    const retryAt = this.#stalledUsers.retryAt(user);
    if (retryAt === undefined) return undefined;
    const now = performance.now();
    if (now < retryAt) return userStalledError(user, this.#readTimeoutMs, retryAt - now);
    // A retry that stalls again leaves one more thread behind: it is tried only while that
    // leaves room for a replacement and for the stall of someone else.
    if (this.#stuckThreads() > MAX_READER_THREADS - 3) {
      this.#stalledUsers.putOff(user, now + this.#retryMs);
      return userStalledError(user, this.#readTimeoutMs, this.#retryMs);
    }
    return undefined;
  }

  #send(): void {
    if (this.#closed || this.#queue.length === 0 || this.#current?.batch !== undefined) return;
    const thread = this.#current ?? this.#startThread();
    if (thread === undefined) {
      const saturated = saturatedError(this.#stuckThreads(), this.#retryMs);
      for (const pending of this.#queue.splice(0)) pending.reject(saturated);
      return;
    }
    const pending = this.#queue.splice(0, MAX_READ_BATCH);
    let batch: Batch;
    try {
      batch = thread.send(pending);
    } catch (error) {
      failReads(pending, error);
      this.#send();
      return;
    }
    this.#arm(thread, batch, this.#readTimeoutMs);
  }

  #arm(thread: ReaderThread, batch: Batch, delayMs: number): void {
    thread.arm(delayMs, () => this.#check(thread, batch));
  }

  /** At a deadline of the batch: is the thread still on the same user, and for how long? */
  #check(thread: ReaderThread, batch: Batch): void {
    if (thread.batch !== batch) return;
    const progress = thread.progress(batch);
    if (progress.state === "not-started") {
      const limit = this.#readTimeoutMs + START_GRACE_MS;
      const waited = progress.waitedMs;
      if (waited < limit) this.#arm(thread, batch, Math.min(this.#readTimeoutMs, limit - waited));
      else this.#startStalled(thread, waited);
    } else if (progress.state === "read") {
      this.#arm(thread, batch, this.#readTimeoutMs);
    } else if (progress.waitedMs < this.#readTimeoutMs) {
      this.#arm(thread, batch, this.#readTimeoutMs - progress.waitedMs);
    } else this.#stalled(thread, progress.index, progress.waitedMs);
  }

  /** The read of the index-th user of the batch stalled: fail it, leave the thread, go on. */
  #stalled(thread: ReaderThread, index: number, waitedMs: number): void {
    const batch = this.#leave(thread);
    const { user } = batch.pending[index]!;
    this.#stalls++;
    this.#stalledUsers.stalled(user, performance.now(), this.#retryMs);
    const error = userStalledError(user, this.#readTimeoutMs, this.#retryMs);
    // Every read of that user fails alike, queued ones too (each would stall a thread again);
    // the others of the batch are read again, first in line.
    const notTheUser = (pending: PendingRead) => {
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
  #startStalled(thread: ReaderThread, waitedMs: number): void {
    const batch = this.#leave(thread);
    this.#stalls++;
    for (const pending of batch.pending) {
      pending.reject(startStalledError(pending.user, waitedMs, this.#retryMs));
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

  /** Gives up on the thread and its batch, out on it: the thread exits once its read returns. */
  #leave(thread: ReaderThread): Batch {
    const batch = thread.leave()!;
    if (this.#current === thread) this.#current = undefined;
    return batch;
  }

  #startThread(): ReaderThread | undefined {
    if (this.#threads.size >= MAX_READER_THREADS) {
      this.#noteSaturation();
      return undefined;
    }
    const thread = new ReaderThread(this.#data, this.#epoch, this.#threadEvents);
    this.#threads.add(thread);
    this.#current = thread;
    return thread;
  }

  #replied(batch: Batch, reply: ReadReply): void {
    for (const pending of batch.pending) this.#stalledUsers.answered(pending.user);
    deliverReply(batch.pending, reply, this.#data.shape);
    this.#send();
  }

  /** The thread failed or exited: its batch, if any, fails; later reads start another. */
  #lost(thread: ReaderThread, batch: Batch | undefined, reason: string): void {
    if (this.#current === thread) this.#current = undefined;
    if (batch === undefined) return;
    failReads(batch.pending, new Error(reason));
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

  #stuckThreads(): number {
    return [...this.#threads].filter((thread) => thread.leftAt !== undefined).length;
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

  #report(event: ReadStallEvent): void {
    try {
      this.#onStall?.(event);
    } catch {
      // A listener's failure is not the reader's.
    }
  }
}
