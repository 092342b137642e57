/** How long reads wait for others to share their message while they arrive densely. */
export const GATHER_MS = 1;
/** Weight of the newest gap in the running mean time between reads. */
const GAP_SMOOTHING = 0.1;
/** Longer pauses count as this long, so a busy spell after a quiet one is noticed within ~50 reads. */
const MAX_GAP_MS = 100;

/**
 * When the reads gathered go out: at once while reads are sparse, and while they come faster
 * than one per GATHER_MS, after that long, so that they share one message.
 */
export class ReadGathering {
  readonly #flush: () => void;
  #flushPending = false;
  #lastRead = performance.now();
  #meanGapMs = MAX_GAP_MS;

  /** `flush` sends what has gathered. */
  constructor(flush: () => void) {
    this.#flush = flush;
  }

  /** A read joined the gathering; `busy`: a batch is out, and its answer flushes. */
  arrived(busy: boolean): void {
    const now = performance.now();
    const gap = Math.min(now - this.#lastRead, MAX_GAP_MS);
    this.#meanGapMs += GAP_SMOOTHING * (gap - this.#meanGapMs);
    this.#lastRead = now;
    if (busy || this.#flushPending) return;
    this.#flushPending = true;
    const flush = () => {
      this.#flushPending = false;
      this.#flush();
    };
    // Sparse reads go at once; when they come faster than one per window, they wait to share one.
    if (this.#meanGapMs >= GATHER_MS) setImmediate(flush);
    else setTimeout(flush, GATHER_MS);
  }
}
