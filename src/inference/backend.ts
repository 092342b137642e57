/** What the rest of the service needs from a backbone: per-text base reward and projection. */
export interface TextFeatures {
  /** ⟨Θ0, Φ(x)⟩ + b0 */
  base: number;
  /** P(x) = BᵀΦ(x), k×m row-major */
  proj: Float32Array;
}

/** One tokenized text: ids, plus segment ids for backbones that take token_type_ids. */
export interface TokenSeq {
  ids: readonly number[];
  typeIds?: readonly number[] | undefined;
}

export interface Backend {
  readonly provider: string;
  readonly k: number;
  readonly m: number;
  embed(batch: readonly TokenSeq[]): Promise<TextFeatures[]>;
  /** false while the backend cannot run batches (its worker died and is not back yet). */
  healthy?(): boolean;
  dispose(): Promise<void>;
}
