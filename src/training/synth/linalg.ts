import type { Rng } from "./rng.js";

/** σ(x) without overflow for large |x|. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

export function gaussianVector(rng: Rng, n: number, scale = 1): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = scale * rng.normal();
  return out;
}

/** A random rows×cols matrix (row-major) with orthonormal columns: Gram–Schmidt on Gaussians. */
export function orthonormalColumns(rng: Rng, rows: number, cols: number): Float64Array {
  if (cols > rows) throw new RangeError(`expected at most ${rows} columns, got ${cols}`);
  const q = new Float64Array(rows * cols);
  for (let c = 0; c < cols; c++) {
    for (;;) {
      const v = gaussianVector(rng, rows);
      // Two passes of modified Gram–Schmidt keep the columns orthogonal to rounding.
      for (let pass = 0; pass < 2; pass++) {
        for (let prev = 0; prev < c; prev++) {
          let proj = 0;
          for (let i = 0; i < rows; i++) proj += q[i * cols + prev]! * v[i]!;
          for (let i = 0; i < rows; i++) v[i] -= proj * q[i * cols + prev]!;
        }
      }
      const norm = Math.sqrt(dot(v, v));
      if (norm < 1e-8) continue;
      for (let i = 0; i < rows; i++) q[i * cols + c] = v[i]! / norm;
      break;
    }
  }
  return q;
}
