import type { TokenSeq } from "./backend.js";
import { InferenceError } from "./errors.js";

export type Priority = "high" | "low";

export interface BatcherOptions {
  maxBatchTokens: number;
  maxBatchSize: number;
  maxWaitMs: number;
  maxQueued: number;
}

export interface BatchObserver {
  onBatch?(info: {
    size: number;
    tokens: number;
    paddedTokens: number;
    queueWaitSeconds: number[];
  }): void;
  onQueueSize?(size: number): void;
}

interface Entry<R> {
  seq: TokenSeq;
  length: number;
  priority: Priority;
  enqueuedAt: number;
  isCancelled: () => boolean;
  resolve: (value: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Groups sequences from many requests into backbone batches bounded by padded tokens and by
 * count. A batch is anchored on the oldest waiting sequence (so nobody starves) and filled with
 * the sequences closest to it in length (so padding stays small). One batch runs at a time:
 * on a CPU the backbone already uses every core, and queued work keeps piling into the next batch.
 */
export class Batcher<R> {
  readonly #options: BatcherOptions;
  readonly #run: (batch: readonly TokenSeq[]) => Promise<R[]>;
  readonly #observer: BatchObserver;
  readonly #queues: Record<Priority, Entry<R>[]> = { high: [], low: [] };
  #running = false;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    run: (batch: readonly TokenSeq[]) => Promise<R[]>,
    options: BatcherOptions,
    observer: BatchObserver = {},
  ) {
    for (const key of ["maxBatchTokens", "maxBatchSize", "maxQueued"] as const) {
      if (!Number.isInteger(options[key]) || options[key] < 1) {
        throw new TypeError(
          `Batcher option ${key} must be a positive integer, got ${options[key]}`,
        );
      }
    }
    this.#run = run;
    this.#options = options;
    this.#observer = observer;
  }

  get size(): number {
    return this.#queues.high.length + this.#queues.low.length;
  }

  get maxQueued(): number {
    return this.#options.maxQueued;
  }

  /** Whether a new text would be refused now. */
  queueFull(): boolean {
    return this.size >= this.#options.maxQueued;
  }

  get idle(): boolean {
    return !this.#running && this.size === 0;
  }

  submit(seq: TokenSeq, priority: Priority, isCancelled: () => boolean = () => false): Promise<R> {
    const length = seq.ids.length;
    if (this.#closed)
      return Promise.reject(new InferenceError("SHUTTING_DOWN", "The server is shutting down"));
    if (length > this.#options.maxBatchTokens) {
      return Promise.reject(
        new TypeError(
          `A sequence of ${length} tokens exceeds maxBatchTokens (${this.#options.maxBatchTokens})`,
        ),
      );
    }
    if (this.queueFull()) {
      const max = this.#options.maxQueued;
      return Promise.reject(
        new InferenceError("QUEUE_FULL", `The backbone queue is full (${max} texts)`, {
          retryAfterSeconds: 1,
        }),
      );
    }
    return new Promise<R>((resolve, reject) => {
      this.#queues[priority].push({
        seq,
        length,
        priority,
        enqueuedAt: performance.now(),
        isCancelled,
        resolve,
        reject,
      });
      this.#observer.onQueueSize?.(this.size);
      this.#schedule();
    });
  }

  /** Stops accepting work; resolves when everything queued has run. */
  async drain(): Promise<void> {
    this.#closed = true;
    while (!this.idle) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  #schedule(): void {
    if (this.#running || this.#timer !== undefined || this.size === 0) return;
    const full =
      this.size >= this.#options.maxBatchSize ||
      this.#queuedTokens() >= this.#options.maxBatchTokens;
    if (full || this.#options.maxWaitMs === 0) {
      queueMicrotask(() => this.#flush());
      return;
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#flush();
    }, this.#options.maxWaitMs);
  }

  #queuedTokens(): number {
    let total = 0;
    for (const entry of this.#queues.high) total += entry.length;
    for (const entry of this.#queues.low) total += entry.length;
    return total;
  }

  #flush(): void {
    if (this.#running) return;
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const batch = this.#take();
    this.#observer.onQueueSize?.(this.size);
    if (batch.length === 0) return;
    this.#running = true;
    void this.#execute(batch);
  }

  async #execute(batch: Entry<R>[]): Promise<void> {
    const now = performance.now();
    let maxLength = 0;
    let tokens = 0;
    for (const entry of batch) {
      maxLength = Math.max(maxLength, entry.length);
      tokens += entry.length;
    }
    this.#observer.onBatch?.({
      size: batch.length,
      tokens,
      paddedTokens: maxLength * batch.length,
      queueWaitSeconds: batch.map((e) => (now - e.enqueuedAt) / 1000),
    });
    try {
      const results = await this.#run(batch.map((e) => e.seq));
      if (results.length !== batch.length) {
        throw new Error(`Backend returned ${results.length} results for ${batch.length} sequences`);
      }
      for (const [i, entry] of batch.entries()) entry.resolve(results[i]!);
    } catch (error) {
      for (const entry of batch) entry.reject(error);
    } finally {
      this.#running = false;
      this.#schedule();
    }
  }

  /** Picks the next batch: cancelled entries are dropped, high priority first. */
  #take(): Entry<R>[] {
    for (const priority of ["high", "low"] as const) {
      const queue = this.#queues[priority];
      const live = queue.filter((entry) => {
        if (!entry.isCancelled()) return true;
        entry.reject(new InferenceError("CANCELLED", "The client closed the request"));
        return false;
      });
      queue.length = 0;
      queue.push(...live);
    }
    const high = this.#pick(this.#queues.high, []);
    const low = high.length < this.#options.maxBatchSize ? this.#pick(this.#queues.low, high) : [];
    return [...high, ...low];
  }

  #pick(queue: Entry<R>[], already: Entry<R>[]): Entry<R>[] {
    if (queue.length === 0) return [];
    const { maxBatchSize, maxBatchTokens } = this.#options;
    const anchor = already[0] ?? queue[0]!;
    const anchorLength = anchor.length;
    const byCloseness = queue
      .map((entry, index) => ({ entry, index, distance: Math.abs(entry.length - anchorLength) }))
      .sort((a, b) => a.distance - b.distance || a.index - b.index);
    const chosen: Entry<R>[] = [];
    const taken = new Set<number>();
    let maxLength = already.reduce((max, e) => Math.max(max, e.length), 0);
    let count = already.length;
    if (already.length === 0) {
      chosen.push(anchor);
      taken.add(0);
      maxLength = anchorLength;
      count = 1;
    }
    for (const { entry, index } of byCloseness) {
      if (taken.has(index)) continue;
      if (count >= maxBatchSize) break;
      const nextMax = Math.max(maxLength, entry.length);
      if (nextMax * (count + 1) > maxBatchTokens) continue;
      chosen.push(entry);
      taken.add(index);
      maxLength = nextMax;
      count += 1;
    }
    const remaining = queue.filter((_, index) => !taken.has(index));
    queue.length = 0;
    queue.push(...remaining);
    return chosen;
  }
}
