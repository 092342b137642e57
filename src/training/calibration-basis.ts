import { deriveSeed, SeededRandom } from "../math/random.js";
import { topLeftSingularVectors } from "../math/top-singular-vectors.js";

/** Random stream of the calibration basis, apart from the trainer's streams. */
const CALIBRATION_STREAM = 11;

/**
 * B until `fit` learns one: the top-k principal directions of Φ (m = 1) over calibration texts,
 * i.e. the top-k left singular vectors of the centred d×n feature matrix. A new user's W then
 * moves the reward along the directions in which the texts differ most.
 */
export function calibrationBasis(
  features: readonly Float32Array[],
  d: number,
  k: number,
  seed = 0,
): Float32Array {
  const n = features.length;
  if (n <= k) {
    throw new TypeError(
      `calibration: expected more than k = ${k} distinct texts for ${k} principal directions, got ${n}`,
    );
  }
  const mean = new Float64Array(d);
  for (const phi of features) {
    if (phi.length !== d)
      throw new TypeError(`calibration: expected Φ of length d = ${d}, got ${phi.length}`);
    for (let i = 0; i < d; i++) mean[i] += phi[i]!;
  }
  for (let i = 0; i < d; i++) mean[i] /= n;
  // d×n row-major: column c is text c's centred Φ.
  const centred = new Float64Array(d * n);
  features.forEach((phi, c) => {
    for (let i = 0; i < d; i++) centred[i * n + c] = phi[i]! - mean[i]!;
  });
  const random = new SeededRandom(deriveSeed(seed, CALIBRATION_STREAM));
  return Float32Array.from(topLeftSingularVectors(centred, d, n, k, random));
}
