/**
 * Bookkeeping of the alternating rounds: history, phase timers and early stopping on the
 * validation log-likelihood (or, without validation pairs, on the objective), keeping a snapshot
 * of the best round's parameters.
 */
import type { PhaseSeconds, RoundRecord, StopReason, TrainReport } from "./shared-model.js";

/** Relative objective gain below which the alternation has converged. */
const OBJECTIVE_TOLERANCE = 1e-8;

export type Phase = Exclude<keyof PhaseSeconds, "total">;

export interface RoundMeasures {
  objective: number;
  trainLogLikelihood: number;
  validationLogLikelihood: number | null;
  validationAccuracy: number | null;
}

export class RoundTracker<Snapshot> {
  readonly #started = performance.now();
  readonly #patience: number;
  readonly #onProgress: ((record: RoundRecord) => void) | null;
  readonly #seconds: PhaseSeconds = {
    init: 0,
    userStep: 0,
    sharedStep: 0,
    rebalance: 0,
    evaluation: 0,
    total: 0,
  };
  readonly #history: RoundRecord[] = [];
  #best: { round: number; record: RoundRecord; snapshot: Snapshot } | null = null;
  #stale = 0;
  #stopReason: StopReason = "max-rounds";

  constructor(patience: number, onProgress: ((record: RoundRecord) => void) | null) {
    this.#patience = patience;
    this.#onProgress = onProgress;
  }

  time<T>(phase: Phase, work: () => T): T {
    const start = performance.now();
    try {
      return work();
    } finally {
      this.#seconds[phase] += (performance.now() - start) / 1000;
    }
  }

  /** Records a round; returns true when training should stop. */
  record(round: number, measures: RoundMeasures, snapshot: () => Snapshot): boolean {
    const record: RoundRecord = {
      round,
      ...measures,
      seconds: (performance.now() - this.#started) / 1000,
    };
    const previous = this.#history.at(-1) ?? null;
    this.#history.push(record);
    this.#onProgress?.(record);
    const best = this.#best;
    const improved =
      best === null ||
      (measures.validationLogLikelihood === null
        ? true
        : measures.validationLogLikelihood > (best.record.validationLogLikelihood ?? -Infinity));
    if (improved) {
      this.#best = { round, record, snapshot: snapshot() };
      this.#stale = 0;
    } else {
      this.#stale++;
      if (this.#stale >= this.#patience) {
        this.#stopReason = "patience";
        return true;
      }
    }
    if (
      previous !== null &&
      measures.objective - previous.objective <=
        OBJECTIVE_TOLERANCE * (1 + Math.abs(measures.objective))
    ) {
      this.#stopReason = "converged";
      return true;
    }
    return false;
  }

  /** The report of a fit at personal ridge l2User. */
  finish(l2User: number): { snapshot: Snapshot; report: TrainReport } {
    const best = this.#best;
    if (best === null) throw new TypeError("expected at least one recorded round");
    this.#seconds.total = (performance.now() - this.#started) / 1000;
    return {
      snapshot: best.snapshot,
      report: {
        rounds: this.#history.length - 1,
        bestRound: best.round,
        stopReason: this.#stopReason,
        history: this.#history,
        validationLogLikelihood: best.record.validationLogLikelihood,
        validationAccuracy: best.record.validationAccuracy,
        seconds: { ...this.#seconds },
        l2User,
        l2UserTried: [l2User],
      },
    };
  }
}
