/**
 * Principal angles between the column spans of two d×k matrices: with Q, Q* orthonormal bases,
 * cos θ_a are the singular values of QᵀQ*, taken as square roots of the eigenvalues of the k×k
 * matrix (QᵀQ*)ᵀ(QᵀQ*). A rank-deficient column of either matrix contributes no basis vector
 * (its angle counts as 90°).
 */
import { symmetricEigen } from "./symmetric-eigen.js";
import { thinQr } from "./thin-qr.js";

/** cos θ_1 ≥ … ≥ cos θ_k ∈ [0, 1]. */
export function principalAngleCosines(
  bHat: Float64Array,
  bStar: Float64Array,
  d: number,
  k: number,
): Float64Array {
  if (!Number.isInteger(d) || !Number.isInteger(k) || k < 1 || k > d) {
    throw new TypeError(`d, k: expected integers with 1 ≤ k ≤ d, got d = ${d}, k = ${k}`);
  }
  for (const [name, value] of [
    ["Bhat", bHat],
    ["Bstar", bStar],
  ] as const) {
    if (!(value instanceof Float64Array) || value.length !== d * k) {
      throw new TypeError(`${name}: expected a Float64Array of length d·k = ${d * k}`);
    }
  }
  const a = basis(bHat, d, k);
  const b = basis(bStar, d, k);
  const cross = new Float64Array(k * k);
  for (let i = 0; i < d; i++) {
    for (let x = 0; x < k; x++) {
      const aix = a[i * k + x];
      if (aix === 0) continue;
      for (let y = 0; y < k; y++) cross[x * k + y] += aix * b[i * k + y];
    }
  }
  const gram = new Float64Array(k * k);
  for (let x = 0; x < k; x++) {
    for (let y = 0; y < k; y++) {
      let s = 0;
      for (let z = 0; z < k; z++) s += cross[z * k + x] * cross[z * k + y];
      gram[x * k + y] = s;
    }
  }
  return symmetricEigen(gram, k).values.map((v) => Math.sqrt(Math.min(1, Math.max(0, v))));
}

/** ‖sin Θ‖_F = √(Σ_a sin² θ_a): 0 for equal spans, √k for orthogonal ones. */
export function subspaceDistance(
  bHat: Float64Array,
  bStar: Float64Array,
  d: number,
  k: number,
): number {
  let sum = 0;
  for (const c of principalAngleCosines(bHat, bStar, d, k)) sum += 1 - c * c;
  return Math.sqrt(Math.max(0, sum));
}

/** Orthonormal basis with the completion columns of deficient inputs zeroed. */
function basis(x: Float64Array, d: number, k: number): Float64Array {
  const { q, deficient } = thinQr(x, d, k);
  for (const c of deficient) for (let i = 0; i < d; i++) q[i * k + c] = 0;
  return q;
}
