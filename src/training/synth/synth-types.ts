import type { AttributeName } from "./attributes.js";

export interface SynthOptions {
  /** Users seen in training. */
  readonly users: number;
  readonly pairsPerUser: number;
  /** Held-out pairs of each seen user. */
  readonly testPairsPerUser: number;
  /** Users absent from training, for onboarding curves. */
  readonly newUsers: number;
  readonly newUserPairs: number;
  /** Rank r of the planted preference subspace (1 ≤ r ≤ q). */
  readonly rank: number;
  readonly seed: number;
  /**
   * E‖U·z_i‖² / E‖v0‖²: how much users disagree relative to what they share (default 1). The
   * texts drawn do not depend on it, only the users and their labels.
   */
  readonly disagreement?: number;
  /** Candidate prompts per new user and split in candidates.jsonl (default 24; 0: none). */
  readonly candidatePrompts?: number;
  /** Responses per candidate prompt (default 4). */
  readonly candidateResponses?: number;
}

/** One JSONL row: TRL's pairwise-preference format plus the user. */
export interface SynthRow {
  readonly user: string;
  readonly prompt: string;
  readonly chosen: string;
  readonly rejected: string;
}

/** Per split; null for an empty split. */
export interface SplitAccuracy {
  readonly train: number | null;
  readonly test: number | null;
  readonly newUsers: number | null;
}

export interface SynthBayes {
  /** Expected accuracy of the true model: mean over pairs of max(p, 1 − p). */
  readonly accuracy: SplitAccuracy;
  /** Expected accuracy of predicting with the global vector v0 alone (no personalization). */
  readonly globalModelAccuracy: SplitAccuracy;
}

export interface PlantedUser {
  readonly user: string;
  readonly split: "seen" | "new";
  /** z_i ∈ R^r. */
  readonly z: number[];
  /** v_i = v0 + U·z_i ∈ R^q. */
  readonly v: number[];
}

export interface SynthPlanted {
  readonly attributeNames: readonly AttributeName[];
  readonly rank: number;
  /** E‖U·z_i‖² / E‖v0‖². */
  readonly disagreement: number;
  /** s in P(a ≻ b) = σ(s·v_i·(a(a) − a(b))), calibrated so the expected Bayes accuracy is ≈ 0.85. */
  readonly scale: number;
  readonly v0: number[];
  /** q×r, U[j][c]; orthonormal columns. */
  readonly U: number[][];
  readonly users: PlantedUser[];
}

export interface SynthDataset {
  readonly train: SynthRow[];
  readonly test: SynthRow[];
  readonly newUsers: SynthRow[];
  readonly bayes: SynthBayes;
  readonly planted: SynthPlanted;
}
