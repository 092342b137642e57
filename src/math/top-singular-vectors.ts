/**
 * Top-k left singular vectors of a rows×cols matrix G by block subspace iteration on G·Gᵀ
 * (never formed) with a few extra columns, finished by a Rayleigh–Ritz step. Deterministic for a
 * given random stream.
 */
import { multiplyLeadingColumns } from "./matrix-product.js";
import { gaussianVector } from "./random.js";
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
  random: { gaussian(): number },
  iterations = DEFAULT_SUBSPACE_ITERATIONS,
): Float64Array {
  if (!Number.isInteger(k) || k < 1 || k > rows) {
    throw new TypeError(`k: expected an integer in [1, ${rows}], got ${String(k)}`);
  }
  const b = Math.min(k + OVERSAMPLING, rows);
  let q = thinQr(gaussianVector(random, rows * b), rows, b).q;
  const t = new Float64Array(cols * b);
  const y = new Float64Array(rows * b);
  for (let it = 0; it < iterations; it++) {
    multiplyBlock(g, rows, cols, q, b, t, true);
    multiplyBlock(g, rows, cols, t, b, y, false);
    q = thinQr(y, rows, b).q;
  }
  // Rayleigh–Ritz: the eigenvectors of Qᵀ G Gᵀ Q = TᵀT rotate Q onto the singular directions.
  multiplyBlock(g, rows, cols, q, b, t, true);
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
  return multiplyLeadingColumns(q, vectors, rows, b, k, b);
}

/**
 * out = G·X (X cols×b, out rows×b), or with `transposed` out = Gᵀ·X (X rows×b, out cols×b),
 * skipping the zero entries of G.
 */
function multiplyBlock(
  g: Float64Array,
  rows: number,
  cols: number,
  x: Float64Array,
  b: number,
  out: Float64Array,
  transposed: boolean,
): void {
  out.fill(0);
  for (let i = 0; i < rows; i++) {
    for (let c = 0; c < cols; c++) {
      const gic = g[i * cols + c];
      if (gic === 0) continue;
      const from = (transposed ? i : c) * b;
      const to = (transposed ? c : i) * b;
      for (let s = 0; s < b; s++) out[to + s] += gic * x[from + s];
    }
  }
}
