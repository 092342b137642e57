/** Raised by the Cholesky factorization when a pivot is not strictly positive. */
export class NotPositiveDefiniteError extends Error {
  readonly code = "NOT_POSITIVE_DEFINITE";
  readonly pivotIndex: number;
  readonly pivot: number;

  constructor(pivotIndex: number, pivot: number) {
    super(`expected a symmetric positive-definite matrix; pivot ${pivotIndex} is ${String(pivot)}`);
    this.name = "NotPositiveDefiniteError";
    this.pivotIndex = pivotIndex;
    this.pivot = pivot;
  }
}
