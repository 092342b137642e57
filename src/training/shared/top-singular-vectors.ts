/**
 * Top-k left singular vectors of a rows×cols matrix G by block subspace iteration on G·Gᵀ
 * (never formed) with a few extra columns, finished by a Rayleigh–Ritz step. Deterministic for a
 * given random stream.
 */
import type { SeededRandom } from "../../math/random.js";
import { symmetricEigen } from "./symmetric-eigen.js";
import { thinQr } from "./thin-qr.js";

const OVERSAMPLING = 4;
export const DEFAULT_SUBSPACE_ITERATIONS = 40;

/** rows×k row-major with orthonormal columns, ordered by decreasing singular value. */
export function topLeftSingularVectors(
  g: Float64Array,
  rows: number,
  cols: number,
  k: number,
  random: SeededRandom,
  iterations = DEFAULT_SUBSPACE_ITERATIONS,
): Float64Array {
  if (!Number.isInteger(k) || k < 1 || k > rows) {
    throw new TypeError(`k: expected an integer in [1, ${rows}], got ${String(k)}`);
  }
  const b = Math.min(k + OVERSAMPLING, rows);
  let q: Float64Array = new Float64Array(rows * b);
  for (let i = 0; i < q.length; i++) q[i] = random.gaussian();
  q = thinQr(q, rows, b).q;
  const t = new Float64Array(cols * b);
  const y = new Float64Array(rows * b);
  for (let it = 0; it < iterations; it++) {
    multiplyTransposed(g, rows, cols, q, b, t);
    multiply(g, rows, cols, t, b, y);
    q = thinQr(y, rows, b).q;
  }
  // Rayleigh–Ritz: the eigenvectors of Qᵀ G Gᵀ Q = TᵀT rotate Q onto the singular directions.
  multiplyTransposed(g, rows, cols, q, b, t);
  const gram = new Float64Array(b * b);
  for (let r = 0; r < cols; r++) {
    const row = r * b;
    for (let x = 0; x < b; x++) {
      const tx = t[row + x];
      if (tx === 0) continue;
      for (let z = 0; z < b; z++) gram[x * b + z] += tx * t[row + z];
    }
  }
  const { vectors } = symmetricEigen(gram, b);
  const out = new Float64Array(rows * k);
  for (let i = 0; i < rows; i++) {
    for (let a = 0; a < k; a++) {
      let s = 0;
      for (let x = 0; x < b; x++) s += q[i * b + x] * vectors[x * b + a];
      out[i * k + a] = s;
    }
  }
  return out;
}

/** out (cols×b) = Gᵀ·Q. */
function multiplyTransposed(
  g: Float64Array,
  rows: number,
  cols: number,
  q: Float64Array,
  b: number,
  out: Float64Array,
): void {
  out.fill(0);
  for (let i = 0; i < rows; i++) {
    const qRow = i * b;
    for (let c = 0; c < cols; c++) {
      const gic = g[i * cols + c];
      if (gic === 0) continue;
      const outRow = c * b;
      for (let x = 0; x < b; x++) out[outRow + x] += gic * q[qRow + x];
    }
  }
}

/** out (rows×b) = G·T. */
function multiply(
  g: Float64Array,
  rows: number,
  cols: number,
  t: Float64Array,
  b: number,
  out: Float64Array,
): void {
  out.fill(0);
  for (let i = 0; i < rows; i++) {
    const outRow = i * b;
    for (let c = 0; c < cols; c++) {
      const gic = g[i * cols + c];
      if (gic === 0) continue;
      const tRow = c * b;
      for (let x = 0; x < b; x++) out[outRow + x] += gic * t[tRow + x];
    }
  }
}
