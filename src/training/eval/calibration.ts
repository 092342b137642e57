/**
 * Calibration of a new user's posterior on held-out pairs.
 *
 * ECE: each pair enters in both orientations, (p, won) and (1 − p, lost), so the figure does not
 * depend on which side a file lists first; ten equal-width bins, weighted by their counts.
 *
 * Coverage of the pessimistic bound: with the true log-odds t of a pair known (synthetic data),
 * the bound holds when t ≥ ℓ − β·σ_Δ for the predicted log-odds ℓ and its posterior standard
 * deviation σ_Δ; both orientations again, so the figure is one-sided coverage averaged over them.
 */
export const ECE_BINS = 10;
/** The one-sided 95% quantile of the standard normal: r − 1.645·σ bounds r with 95% under the posterior. */
export const BETA_95 = 1.6448536269514722;

export class CalibrationTally {
  readonly #count = new Float64Array(ECE_BINS);
  readonly #predicted = new Float64Array(ECE_BINS);
  readonly #observed = new Float64Array(ECE_BINS);
  #covered = 0;
  #bounded = 0;

  /** One held-out pair: predicted P(first wins), whether it won, and optionally the bound's check. */
  add(
    p: number,
    won: boolean,
    bound?: { trueLogOdds: number; logOdds: number; sigma: number; beta: number },
  ): void {
    this.#bin(p, won ? 1 : 0);
    this.#bin(1 - p, won ? 0 : 1);
    if (bound !== undefined) {
      const { trueLogOdds, logOdds, sigma, beta } = bound;
      this.#bounded += 2;
      if (trueLogOdds >= logOdds - beta * sigma) this.#covered++;
      if (trueLogOdds <= logOdds + beta * sigma) this.#covered++;
    }
  }

  #bin(p: number, outcome: number): void {
    const bin = Math.min(ECE_BINS - 1, Math.max(0, Math.floor(p * ECE_BINS)));
    this.#count[bin]++;
    this.#predicted[bin] += p;
    this.#observed[bin] += outcome;
  }

  /** Σ_b (n_b/N)·|mean predicted − observed frequency|; null without pairs. */
  get ece(): number | null {
    let total = 0;
    let sum = 0;
    for (let b = 0; b < ECE_BINS; b++) {
      const n = this.#count[b]!;
      if (n === 0) continue;
      total += n;
      sum += Math.abs(this.#predicted[b]! - this.#observed[b]!);
    }
    return total === 0 ? null : sum / total;
  }

  /** Fraction of (pair, orientation) checks the bound held in; null without known truth. */
  get coverage(): number | null {
    return this.#bounded === 0 ? null : this.#covered / this.#bounded;
  }
}
