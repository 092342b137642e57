/**
 * Calibration of a new user's posterior on held-out pairs.
 *
 * ECE: each pair enters in both orientations, (p, won) and (1 − p, lost), so the figure does not
 * depend on which side a file lists first; ten equal-width bins, weighted by their counts.
 *
 * Coverage of the pessimistic bound: with the true log-odds t of a pair known (synthetic data),
 * the bound holds when t ≥ ℓ − β·σ_Δ for the predicted log-odds ℓ and its posterior standard
 * deviation σ_Δ; both orientations again, so the figure is one-sided coverage averaged over them.
 * The β that would have given 95% is the 95th percentile of the standardized errors ±(ℓ − t)/σ_Δ:
 * what to pass as `pessimism` for a 95% bound on this backbone, whatever the posterior claims.
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
  readonly #standardized: number[] = [];

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
      const z = (logOdds - trueLogOdds) / sigma;
      this.#standardized.push(z, -z);
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

  /** The smallest β with which the bound would have held in `level` of the checks; null without truth. */
  betaFor(level: number): number | null {
    if (!(level > 0 && level < 1)) throw new RangeError(`level: expected in (0, 1), got ${level}`);
    const n = this.#standardized.length;
    if (n === 0) return null;
    const sorted = Float64Array.from(this.#standardized).sort();
    return Math.max(0, sorted[Math.min(n - 1, Math.ceil(level * n) - 1)]!);
  }
}
