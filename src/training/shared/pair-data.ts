/**
 * Data model of the offline P-ShareLoRA trainer: per user, pairwise comparisons reduced to their
 * feature differences Δ_j = Φ(chosen_j) − Φ(rejected_j) ∈ R^{d×m} (row-major, Δ[i*m + c]).
 * The preference model on a pair is P(chosen ≻ rejected) = σ(⟨Θ, Δ_j⟩); b0 cancels in differences.
 */

/** `count` feature differences, each d×m row-major, stacked: Δ_j = deltas[j*d*m .. (j+1)*d*m). */
export interface PairBlock {
  readonly d: number;
  readonly m: number;
  readonly count: number;
  readonly deltas: Float64Array;
}

export interface UserPairs {
  readonly user: string;
  readonly train: PairBlock;
  /** Held out for early stopping. */
  readonly validation: PairBlock;
}

export interface SharedData {
  readonly d: number;
  readonly m: number;
  readonly users: readonly UserPairs[];
}

/** Φ(chosen) and Φ(rejected), each d×m row-major. */
export interface FeaturePairInput {
  readonly chosen: Float64Array | Float32Array;
  readonly rejected: Float64Array | Float32Array;
}

export interface UserFeaturePairs {
  readonly user: string;
  readonly pairs: readonly FeaturePairInput[];
}
