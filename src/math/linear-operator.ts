/** A linear map from unknowns w ∈ R^p to one score per pair, with the adjoints a solver needs. */
export interface LinearOperator {
  /** Pairs (rows). */
  readonly n: number;
  /** Unknowns (columns). */
  readonly p: number;
  /** out[j] = x_j·w. */
  apply(w: Float64Array, out: Float64Array): void;
  /** out = Σ_j r_j·x_j (overwritten). */
  applyTranspose(r: Float64Array, out: Float64Array): void;
  /** out = Σ_j c_j·x_j∘x_j (overwritten): the diagonal of XᵀCX, for preconditioning. */
  squaredTranspose(c: Float64Array, out: Float64Array): void;
}
