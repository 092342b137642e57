import { norm2 } from "./linalg.js";
import { gaussianVector } from "./random.js";

/**
 * A random rows×cols matrix (row-major) with orthonormal columns: Gram–Schmidt on Gaussians, one
 * column drawn at a time (a column that comes out numerically dependent is drawn again).
 */
export function randomOrthonormalColumns(
  random: { gaussian(): number },
  rows: number,
  cols: number,
): Float64Array {
  if (cols > rows) throw new RangeError(`expected at most ${rows} columns, got ${cols}`);
  const q = new Float64Array(rows * cols);
  for (let c = 0; c < cols; c++) {
    for (;;) {
      const v = gaussianVector(random, rows);
      // Two passes of modified Gram–Schmidt keep the columns orthogonal to rounding.
      for (let pass = 0; pass < 2; pass++) {
        for (let prev = 0; prev < c; prev++) {
          let proj = 0;
          for (let i = 0; i < rows; i++) proj += q[i * cols + prev]! * v[i]!;
          for (let i = 0; i < rows; i++) v[i] -= proj * q[i * cols + prev]!;
        }
      }
      const norm = norm2(v);
      if (norm < 1e-8) continue;
      for (let i = 0; i < rows; i++) q[i * cols + c] = v[i]! / norm;
      break;
    }
  }
  return q;
}
