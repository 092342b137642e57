/**
 * Eigendecomposition of a small symmetric p×p matrix by cyclic Jacobi rotations: accurate to
 * rounding and dependency-free; meant for p up to a few dozen (k×k problems).
 */
export interface SymmetricEigen {
  /** Descending. */
  values: Float64Array;
  /** p×p row-major; column j is the unit eigenvector of values[j]. */
  vectors: Float64Array;
}

const MAX_SWEEPS = 100;

export function symmetricEigen(a: Float64Array, p: number): SymmetricEigen {
  const s = Float64Array.from(a.subarray(0, p * p));
  const v = new Float64Array(p * p);
  for (let i = 0; i < p; i++) v[i * p + i] = 1;
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    let off = 0;
    let total = 0;
    for (let i = 0; i < p; i++) {
      for (let j = 0; j < p; j++) {
        const x = s[i * p + j] * s[i * p + j];
        total += x;
        if (i !== j) off += x;
      }
    }
    if (off <= 1e-30 * total || off === 0) break;
    for (let i = 0; i < p - 1; i++) {
      for (let j = i + 1; j < p; j++) rotate(s, v, p, i, j);
    }
  }
  const order = Array.from({ length: p }, (_, i) => i).sort(
    (x, y) => s[y * p + y] - s[x * p + x] || x - y,
  );
  const values = new Float64Array(p);
  const vectors = new Float64Array(p * p);
  order.forEach((source, target) => {
    values[target] = s[source * p + source];
    for (let i = 0; i < p; i++) vectors[i * p + target] = v[i * p + source];
  });
  return { values, vectors };
}

/** Zeroes s[i][j] by the rotation J (s ← JᵀsJ, v ← vJ). */
function rotate(s: Float64Array, v: Float64Array, p: number, i: number, j: number): void {
  const sij = s[i * p + j];
  if (sij === 0) return;
  const theta = (s[j * p + j] - s[i * p + i]) / (2 * sij);
  const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
  const c = 1 / Math.sqrt(t * t + 1);
  const sn = t * c;
  for (let k = 0; k < p; k++) {
    const ski = s[k * p + i];
    const skj = s[k * p + j];
    s[k * p + i] = c * ski - sn * skj;
    s[k * p + j] = sn * ski + c * skj;
  }
  for (let k = 0; k < p; k++) {
    const sik = s[i * p + k];
    const sjk = s[j * p + k];
    s[i * p + k] = c * sik - sn * sjk;
    s[j * p + k] = sn * sik + c * sjk;
  }
  for (let k = 0; k < p; k++) {
    const vki = v[k * p + i];
    const vkj = v[k * p + j];
    v[k * p + i] = c * vki - sn * vkj;
    v[k * p + j] = sn * vki + c * vkj;
  }
}
