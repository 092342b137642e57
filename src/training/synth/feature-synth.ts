import { dot } from "../../math/linalg.js";
import { sigmoid } from "../../math/logistic.js";
import { gaussianVector, Sfc32Random } from "../../math/random.js";
import { randomOrthonormalColumns } from "../../math/random-orthonormal.js";

export interface FeatureSynthOptions {
  readonly d: number;
  readonly m: number;
  readonly k: number;
  readonly users: number;
  readonly pairsPerUser: number;
  readonly seed: number;
  /** Expected ‖Θ0*‖_F (default 2). */
  readonly globalNorm?: number;
  /** Expected ‖B*·W_i*‖_F (default 2). */
  readonly userNorm?: number;
  /**
   * Scale of each of the k planted directions (row a of every W_i* is multiplied by
   * spectrum[a] / rms(spectrum), which keeps the expected ‖W_i*‖_F); default all equal.
   */
  readonly spectrum?: readonly number[];
}

/** Φ(chosen) and Φ(rejected), each d×m row-major (Φ[i*m + j]). */
export interface FeaturePair {
  readonly chosen: Float64Array;
  readonly rejected: Float64Array;
}

export interface FeatureUser {
  readonly user: string;
  /** W_i* (k×m row-major). */
  readonly W: Float64Array;
  readonly pairs: FeaturePair[];
}

export interface FeatureSynth {
  readonly d: number;
  readonly m: number;
  readonly k: number;
  /** Θ0* (d×m row-major). */
  readonly theta0: Float64Array;
  /** B* (d×k row-major), orthonormal columns. */
  readonly B: Float64Array;
  readonly users: FeatureUser[];
  /** Expected accuracy of the true model over all pairs: mean of max(p, 1 − p). */
  readonly bayesAccuracy: number;
}

const STREAM = { params: 11, users: 12, pairs: 13 } as const;

function checkOptions(o: FeatureSynthOptions): void {
  for (const key of ["d", "m", "k", "users", "pairsPerUser"] as const) {
    if (!Number.isSafeInteger(o[key]) || o[key] < 1) {
      throw new TypeError(`expected options.${key} to be an integer ≥ 1, got ${String(o[key])}`);
    }
  }
  if (!Number.isSafeInteger(o.seed) || o.seed < 0) {
    throw new TypeError(`expected options.seed to be an integer ≥ 0, got ${String(o.seed)}`);
  }
  if (o.k > o.d) throw new TypeError(`expected options.k ≤ d = ${o.d}, got ${o.k}`);
  if (o.spectrum !== undefined) {
    const ok =
      Array.isArray(o.spectrum) &&
      o.spectrum.length === o.k &&
      o.spectrum.every((v) => Number.isFinite(v) && v > 0);
    if (!ok) throw new TypeError(`expected options.spectrum to be ${o.k} positive numbers`);
  }
  for (const key of ["globalNorm", "userNorm"] as const) {
    const v = o[key];
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) {
      throw new TypeError(`expected options.${key} to be a finite number ≥ 0, got ${String(v)}`);
    }
  }
}

/** Θ0 + B·W (d×m). */
export function userTheta(
  theta0: Float64Array,
  B: Float64Array,
  W: Float64Array,
  k: number,
): Float64Array {
  const m = W.length / k;
  const d = theta0.length / m;
  const theta = Float64Array.from(theta0);
  for (let i = 0; i < d; i++) {
    for (let a = 0; a < k; a++) {
      const bia = B[i * k + a]!;
      for (let j = 0; j < m; j++) theta[i * m + j] += bia * W[a * m + j]!;
    }
  }
  return theta;
}

/**
 * Preferences planted directly on features: Φ(x) ~ N(0, 1) entrywise, r_i(x) = ⟨Θ0* + B*·W_i*, Φ(x)⟩,
 * P(a ≻ b) = σ(r_i(a) − r_i(b)). For testing that a fitter recovers span(B*).
 */
export function generateFeatureSynth(options: FeatureSynthOptions): FeatureSynth {
  checkOptions(options);
  const { d, m, k, seed } = options;
  const p = d * m;
  const paramsRng = new Sfc32Random(seed, STREAM.params);
  const theta0 = gaussianVector(paramsRng, p, (options.globalNorm ?? 2) / Math.sqrt(p));
  const B = randomOrthonormalColumns(paramsRng, d, k);
  const usersRng = new Sfc32Random(seed, STREAM.users);
  const pairsRng = new Sfc32Random(seed, STREAM.pairs);
  const width = Math.max(4, String(options.users - 1).length);
  const rowScale = spectrumScales(options.spectrum, k);
  const users: FeatureUser[] = [];
  let bayes = 0;
  for (let u = 0; u < options.users; u++) {
    // ‖B·W‖_F = ‖W‖_F because B has orthonormal columns.
    const W = gaussianVector(usersRng, k * m, (options.userNorm ?? 2) / Math.sqrt(k * m));
    if (rowScale !== null) for (let i = 0; i < W.length; i++) W[i] *= rowScale[Math.floor(i / m)]!;
    const theta = userTheta(theta0, B, W, k);
    const pairs: FeaturePair[] = [];
    for (let n = 0; n < options.pairsPerUser; n++) {
      const a = gaussianVector(pairsRng, p);
      const b = gaussianVector(pairsRng, p);
      const prob = sigmoid(dot(theta, 0, a, 0, p) - dot(theta, 0, b, 0, p));
      bayes += Math.max(prob, 1 - prob);
      pairs.push(
        pairsRng.nextUnit() < prob ? { chosen: a, rejected: b } : { chosen: b, rejected: a },
      );
    }
    users.push({ user: `user-${String(u).padStart(width, "0")}`, W, pairs });
  }
  return {
    d,
    m,
    k,
    theta0,
    B,
    users,
    bayesAccuracy: bayes / (options.users * options.pairsPerUser),
  };
}

/** spectrum / rms(spectrum), or null for the default flat spectrum (draws left untouched). */
function spectrumScales(spectrum: readonly number[] | undefined, k: number): number[] | null {
  if (spectrum === undefined) return null;
  const rms = Math.sqrt(spectrum.reduce((s, v) => s + v * v, 0) / k);
  return spectrum.map((v) => v / rms);
}
