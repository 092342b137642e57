/**
 * Thin QR of a rows×cols row-major matrix (cols ≤ rows) by modified Gram–Schmidt, applied twice
 * so the columns of Q stay orthogonal to rounding. A column that is (numerically) in the span of
 * the previous ones gets R's diagonal 0 and an orthonormal completion in Q, so Q always has
 * orthonormal columns and A = Q·R up to the dropped residual (≤ 1e-12 of that column's norm).
 */
import { norm2 } from "./linalg.js";

export interface ThinQr {
  /** rows×cols row-major, orthonormal columns. */
  q: Float64Array;
  /** cols×cols row-major, upper triangular. */
  r: Float64Array;
  /** Columns whose R diagonal is 0. */
  deficient: number[];
}

const DEFICIENT = 1e-12;

export function thinQr(a: Float64Array, rows: number, cols: number): ThinQr {
  if (cols > rows) throw new TypeError(`expected cols ≤ rows, got ${cols} > ${rows}`);
  const columns = Array.from({ length: cols }, (_, c) => {
    const v = new Float64Array(rows);
    for (let i = 0; i < rows; i++) v[i] = a[i * cols + c];
    return v;
  });
  const basis: Float64Array[] = [];
  const r = new Float64Array(cols * cols);
  const deficient: number[] = [];
  for (let c = 0; c < cols; c++) {
    const v = columns[c];
    const original = norm2(v);
    for (let pass = 0; pass < 2; pass++) {
      for (let b = 0; b < c; b++) r[b * cols + c] += project(v, basis[b]);
    }
    const residual = norm2(v);
    if (residual > DEFICIENT * original && residual > 0) {
      r[c * cols + c] = residual;
      for (let i = 0; i < rows; i++) v[i] /= residual;
      basis.push(v);
    } else {
      deficient.push(c);
      basis.push(completion(basis, rows));
    }
  }
  const q = new Float64Array(rows * cols);
  for (let c = 0; c < cols; c++) {
    const v = basis[c];
    for (let i = 0; i < rows; i++) q[i * cols + c] = v[i];
  }
  return { q, r, deficient };
}

/** v −= (v·u)u; returns v·u. */
function project(v: Float64Array, u: Float64Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * u[i];
  for (let i = 0; i < v.length; i++) v[i] -= s * u[i];
  return s;
}

/** The first unit vector e_t whose part orthogonal to `basis` is large, normalized. */
function completion(basis: readonly Float64Array[], rows: number): Float64Array {
  for (let t = 0; t < rows; t++) {
    const v = new Float64Array(rows);
    v[t] = 1;
    for (let pass = 0; pass < 2; pass++) for (const u of basis) project(v, u);
    const length = norm2(v);
    if (length > 0.5) {
      for (let i = 0; i < rows; i++) v[i] /= length;
      return v;
    }
  }
  throw new TypeError(`expected at most ${rows} columns to complete`);
}
