import { AdapterError } from "../errors.js";

/** How long one user's read may take before it counts as stalled, unless told otherwise. */
export const DEFAULT_READ_TIMEOUT_MS = 2000;
/**
 * Threads alive at most: the one in use and those left behind in reads that stalled. A thread
 * blocked in a read of a hung disk cannot be interrupted; it exits once its read returns.
 */
export const MAX_READER_THREADS = 8;
/** How long a new thread may take to start, beyond the read deadline, before it is given up. */
export const START_GRACE_MS = 10_000;
/** Shortest wait before the file of a user whose read stalled is tried again. */
export const MIN_RETRY_MS = 1000;
/** Users whose read stalled and who were not read since are forgotten after this long. */
const STALLED_USER_TTL_MS = 10 * 60_000;

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

/** The user's read passed the deadline of `readTimeoutMs`; a retry may go after `waitMs`. */
export function userStalledError(
  user: string,
  readTimeoutMs: number,
  waitMs: number,
): StoreStalledError {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  return new StoreStalledError(
    `adapter store stalled reading the adapter of user ${user} (no answer within ${readTimeoutMs} ms); retry after ${seconds} s`,
    seconds,
    user,
  );
}

/** A new thread did not take the batch with the user's read within `waitedMs`. */
export function startStalledError(
  user: string,
  waitedMs: number,
  retryMs: number,
): StoreStalledError {
  const seconds = Math.ceil(retryMs / 1000);
  return new StoreStalledError(
    `adapter store could not start reading the adapter of user ${user} within ${Math.round(waitedMs)} ms; retry after ${seconds} s`,
    seconds,
    user,
  );
}

/** No thread is left to read with: `stuckThreads` are blocked in reads that have not returned. */
export function saturatedError(stuckThreads: number, retryMs: number): StoreStalledError {
  const seconds = Math.ceil(retryMs / 1000);
  return new StoreStalledError(
    `adapter store stalled: ${stuckThreads} reads have not returned; retry after ${seconds} s`,
    seconds,
  );
}

/** Users whose read stalled, each with when a read of it may be tried again. */
export class StalledUsers {
  readonly #retryAt = new Map<string, number>();

  /** Users whose retry time is still ahead. */
  waiting(now: number): number {
    let users = 0;
    for (const retryAt of this.#retryAt.values()) if (retryAt > now) users++;
    return users;
  }

  /** When a read of `user` may be tried again; undefined when its last read did not stall. */
  retryAt(user: string): number | undefined {
    return this.#retryAt.get(user);
  }

  /**
   * The user's read stalled at `now`: it may be tried again `retryMs` later. Users whose retry
   * time passed STALLED_USER_TTL_MS ago without a read are forgotten.
   */
  stalled(user: string, now: number, retryMs: number): void {
    for (const [other, retryAt] of this.#retryAt) {
      if (retryAt < now - STALLED_USER_TTL_MS) this.#retryAt.delete(other);
    }
    this.#retryAt.set(user, now + retryMs);
  }

  /** A retry of the user is put off: it may be tried at `retryAt`. */
  putOff(user: string, retryAt: number): void {
    this.#retryAt.set(user, retryAt);
  }

  /** The user's read was answered: it reads as any other again. */
  answered(user: string): void {
    if (this.#retryAt.size > 0) this.#retryAt.delete(user);
  }
}
