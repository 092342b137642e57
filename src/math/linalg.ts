/**
 * Dense linear algebra on small row-major p×p float64 matrices (a[i*p + j]).
 * Everything works in place or into caller-provided buffers so hot loops allocate nothing.
 * Cholesky factors are lower-triangular (A = L·Lᵀ) with a zero strict upper triangle.
 */
import { NotPositiveDefiniteError } from "./not-positive-definite-error.js";

type Vector = Float64Array | Float32Array;

/**
 * Replaces the symmetric positive-definite matrix `a` with its Cholesky factor L.
 * Only the lower triangle of `a` is read; the strict upper triangle is zeroed.
 */
export function choleskyInPlace(a: Float64Array, p: number): Float64Array {
  for (let j = 0; j < p; j++) {
    const rowJ = j * p;
    let pivot = a[rowJ + j];
    for (let k = 0; k < j; k++) {
      const v = a[rowJ + k];
      pivot -= v * v;
    }
    if (!(pivot > 0) || !Number.isFinite(pivot)) throw new NotPositiveDefiniteError(j, pivot);
    const diagonal = Math.sqrt(pivot);
    a[rowJ + j] = diagonal;
    const inverse = 1 / diagonal;
    for (let i = j + 1; i < p; i++) {
      const rowI = i * p;
      let s = a[rowI + j];
      for (let k = 0; k < j; k++) s -= a[rowI + k] * a[rowJ + k];
      a[rowI + j] = s * inverse;
    }
    for (let k = j + 1; k < p; k++) a[rowJ + k] = 0;
  }
  return a;
}

/** Cholesky factor of `a` (left untouched) written into `out`. */
export function cholesky(a: Float64Array, p: number, out = new Float64Array(p * p)): Float64Array {
  out.set(a.subarray(0, p * p));
  return choleskyInPlace(out, p);
}

/** Solves L·y = b by forward substitution; `out` may alias `b`. */
export function solveLower(l: Float64Array, p: number, b: Vector, out: Float64Array): Float64Array {
  for (let i = 0; i < p; i++) {
    const row = i * p;
    let s = b[i];
    for (let k = 0; k < i; k++) s -= l[row + k] * out[k];
    out[i] = s / l[row + i];
  }
  return out;
}

/** Solves Lᵀ·x = y by back substitution; `out` may alias `y`. */
export function solveLowerTransposed(
  l: Float64Array,
  p: number,
  y: Vector,
  out: Float64Array,
): Float64Array {
  for (let i = p - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < p; k++) s -= l[k * p + i] * out[k];
    out[i] = s / l[i * p + i];
  }
  return out;
}

/** Solves (L·Lᵀ)·x = b given the Cholesky factor L; `out` may alias `b`. */
export function choleskySolve(
  l: Float64Array,
  p: number,
  b: Vector,
  out: Float64Array,
): Float64Array {
  solveLower(l, p, b, out);
  return solveLowerTransposed(l, p, out, out);
}

/** log det(L·Lᵀ) = 2·Σ log L_ii. */
export function logDetFromCholesky(l: Float64Array, p: number): number {
  let sum = 0;
  for (let i = 0; i < p; i++) sum += Math.log(l[i * p + i]);
  return 2 * sum;
}

/** xᵀ(L·Lᵀ)⁻¹x = ‖L⁻¹x‖², using `scratch` (length ≥ p) for L⁻¹x. */
export function inverseQuadraticForm(
  l: Float64Array,
  p: number,
  x: Vector,
  scratch = new Float64Array(p),
): number {
  solveLower(l, p, x, scratch);
  let sum = 0;
  for (let i = 0; i < p; i++) sum += scratch[i] * scratch[i];
  return sum;
}

/** (L·Lᵀ)⁻¹ as a full symmetric matrix, using `scratch` (length ≥ p) for one column at a time. */
export function inverseFromCholesky(
  l: Float64Array,
  p: number,
  out = new Float64Array(p * p),
  scratch = new Float64Array(p),
): Float64Array {
  for (let j = 0; j < p; j++) {
    scratch.fill(0, 0, p);
    scratch[j] = 1;
    choleskySolve(l, p, scratch, scratch);
    for (let i = 0; i < p; i++) out[i * p + j] = scratch[i];
  }
  symmetrizeFromLower(out, p);
  return out;
}

/** Lower triangle of L·Lᵀ (the matrix a Cholesky factor came from), written into `out`. */
export function lowerProductFromCholesky(
  l: Float64Array,
  p: number,
  out: Float64Array,
): Float64Array {
  for (let i = 0; i < p; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = 0; k <= j; k++) s += l[i * p + k] * l[j * p + k];
      out[i * p + j] = s;
    }
  }
  return out;
}

/** Copies the lower triangle onto the upper one. */
export function symmetrizeFromLower(a: Float64Array, p: number): Float64Array {
  for (let i = 0; i < p; i++) {
    for (let j = 0; j < i; j++) a[j * p + i] = a[i * p + j];
  }
  return a;
}

/** a += s·I. */
export function addToDiagonal(a: Float64Array, p: number, s: number): Float64Array {
  for (let i = 0; i < p; i++) a[i * p + i] += s;
  return a;
}

export function trace(a: Float64Array, p: number): number {
  let sum = 0;
  for (let i = 0; i < p; i++) sum += a[i * p + i];
  return sum;
}

/** max |a_ij − a_ji| relative to max |a_ij| (0 for the zero matrix). */
export function relativeAsymmetry(a: Float64Array, p: number): number {
  let largest = 0;
  let asymmetry = 0;
  for (let i = 0; i < p; i++) {
    for (let j = 0; j <= i; j++) {
      const lower = a[i * p + j];
      const upper = a[j * p + i];
      largest = Math.max(largest, Math.abs(lower), Math.abs(upper));
      asymmetry = Math.max(asymmetry, Math.abs(lower - upper));
    }
  }
  return largest === 0 ? 0 : asymmetry / largest;
}

/** Lower triangle of a += weight·x·xᵀ, with x = source[offset .. offset+p). */
export function addWeightedOuterLower(
  a: Float64Array,
  p: number,
  source: Float64Array,
  offset: number,
  weight: number,
): Float64Array {
  for (let i = 0; i < p; i++) {
    const scaled = weight * source[offset + i];
    if (scaled === 0) continue;
    const row = i * p;
    for (let j = 0; j <= i; j++) a[row + j] += scaled * source[offset + j];
  }
  return a;
}

/**
 * Lower triangle of a += Σ_r weight_r·x_r·x_rᵀ for four rows x_r = source[offset_r .. +p):
 * one pass over `a` instead of four, which roughly halves the memory traffic of Hessian assembly.
 */
export function addWeightedOuterLower4(
  a: Float64Array,
  p: number,
  source: Float64Array,
  offset0: number,
  weight0: number,
  offset1: number,
  weight1: number,
  offset2: number,
  weight2: number,
  offset3: number,
  weight3: number,
): Float64Array {
  for (let i = 0; i < p; i++) {
    const s0 = weight0 * source[offset0 + i];
    const s1 = weight1 * source[offset1 + i];
    const s2 = weight2 * source[offset2 + i];
    const s3 = weight3 * source[offset3 + i];
    const row = i * p;
    for (let j = 0; j <= i; j++) {
      a[row + j] +=
        s0 * source[offset0 + j] +
        s1 * source[offset1 + j] +
        s2 * source[offset2 + j] +
        s3 * source[offset3 + j];
    }
  }
  return a;
}

/** out = A·x for a full (not triangle-only) p×p matrix; `out` must not alias `x`. */
export function matVec(
  a: Float64Array,
  p: number,
  x: Float64Array,
  out: Float64Array,
): Float64Array {
  for (let i = 0; i < p; i++) {
    const row = i * p;
    let s = 0;
    for (let j = 0; j < p; j++) s += a[row + j] * x[j];
    out[i] = s;
  }
  return out;
}

/** Σ a[aOffset+i]·b[bOffset+i] for i < length. */
export function dot(
  a: Vector,
  aOffset: number,
  b: Vector,
  bOffset: number,
  length: number,
): number {
  let s = 0;
  for (let i = 0; i < length; i++) s += a[aOffset + i] * b[bOffset + i];
  return s;
}

/** Σ x_i² for i < length. */
export function squaredNorm(x: Float64Array, length = x.length): number {
  let s = 0;
  for (let i = 0; i < length; i++) s += x[i] * x[i];
  return s;
}

export function norm2(x: Float64Array, length = x.length): number {
  return Math.sqrt(squaredNorm(x, length));
}
