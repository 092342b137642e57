import { describe, expect, it } from "vitest";
import {
  addWeightedOuterLower,
  addWeightedOuterLower4,
  cholesky,
  choleskyInPlace,
  choleskySolve,
  inverseFromCholesky,
  inverseQuadraticForm,
  logDetFromCholesky,
  lowerProductFromCholesky,
  matVec,
  relativeAsymmetry,
  solveLower,
  solveLowerTransposed,
  symmetrizeFromLower,
  trace,
} from "../../src/math/linalg.js";
import { NotPositiveDefiniteError } from "../../src/math/not-positive-definite-error.js";
import { SeededRandom } from "../../src/math/random.js";

const TOLERANCE = 1e-10;

type Matrix = number[][];

function randomSpd(p: number, random: SeededRandom): Matrix {
  const m = Array.from({ length: p }, () => Array.from({ length: p }, () => random.gaussian()));
  return m.map((row, i) =>
    row.map((_, j) => m[i].reduce((s, v, k) => s + v * m[j][k], 0) + (i === j ? 0.1 * p : 0)),
  );
}

function flatten(a: Matrix): Float64Array {
  return Float64Array.from(a.flat());
}

/** Cholesky–Banachiewicz, straight from the definition. */
function referenceCholesky(a: Matrix): Matrix {
  const p = a.length;
  const l: Matrix = Array.from({ length: p }, () => new Array<number>(p).fill(0));
  for (let i = 0; i < p; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i][j];
      for (let k = 0; k < j; k++) s -= l[i][k] * l[j][k];
      l[i][j] = i === j ? Math.sqrt(s) : s / l[j][j];
    }
  }
  return l;
}

/** Gaussian elimination with partial pivoting; returns the solution and the determinant. */
function referenceSolve(a: Matrix, b: number[]): { x: number[]; det: number } {
  const p = a.length;
  const m = a.map((row, i) => [...row, b[i]]);
  let det = 1;
  for (let c = 0; c < p; c++) {
    let pivot = c;
    for (let r = c + 1; r < p; r++) if (Math.abs(m[r][c]) > Math.abs(m[pivot][c])) pivot = r;
    if (pivot !== c) {
      [m[c], m[pivot]] = [m[pivot], m[c]];
      det = -det;
    }
    det *= m[c][c];
    for (let r = c + 1; r < p; r++) {
      const f = m[r][c] / m[c][c];
      for (let k = c; k <= p; k++) m[r][k] -= f * m[c][k];
    }
  }
  const x = new Array<number>(p).fill(0);
  for (let r = p - 1; r >= 0; r--) {
    let s = m[r][p];
    for (let k = r + 1; k < p; k++) s -= m[r][k] * x[k];
    x[r] = s / m[r][r];
  }
  return { x, det };
}

function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let scale = 0;
  let error = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]));
    error = Math.max(error, Math.abs(actual[i] - expected[i]));
  }
  return error / scale;
}

describe("linalg against naive float64 references", () => {
  const sizes = [1, 2, 5, 16, 33];

  it.each(sizes)("Cholesky factor of a random SPD matrix, p = %i", (p) => {
    const random = new SeededRandom(100 + p);
    for (let trial = 0; trial < 5; trial++) {
      const a = randomSpd(p, random);
      const flat = flatten(a);
      const l = cholesky(flat, p);
      expect(maxRelativeError(l, flatten(referenceCholesky(a)))).toBeLessThan(TOLERANCE);
      expect(flat).toEqual(flatten(a));
      for (let i = 0; i < p; i++) for (let j = i + 1; j < p; j++) expect(l[i * p + j]).toBe(0);
    }
  });

  it.each(sizes)("solves, log-determinant, quadratic form and inverse for p = %i", (p) => {
    const random = new SeededRandom(200 + p);
    for (let trial = 0; trial < 5; trial++) {
      const a = randomSpd(p, random);
      const b = Array.from({ length: p }, () => random.gaussian());
      const reference = referenceSolve(a, b);
      const l = cholesky(flatten(a), p);

      const x = choleskySolve(l, p, Float64Array.from(b), new Float64Array(p));
      expect(maxRelativeError(x, reference.x)).toBeLessThan(TOLERANCE);

      const aliased = Float64Array.from(b);
      choleskySolve(l, p, aliased, aliased);
      expect(maxRelativeError(aliased, reference.x)).toBeLessThan(TOLERANCE);

      const logDet = logDetFromCholesky(l, p);
      expect(Math.abs(logDet - Math.log(reference.det))).toBeLessThan(
        TOLERANCE * Math.max(1, Math.abs(logDet)),
      );

      const quadratic = reference.x.reduce((s, v, i) => s + v * b[i], 0);
      const fromFactor = inverseQuadraticForm(l, p, Float64Array.from(b));
      expect(Math.abs(fromFactor - quadratic) / quadratic).toBeLessThan(TOLERANCE);
      const fromFloat32 = inverseQuadraticForm(l, p, Float32Array.from(b));
      const b32 = Array.from(Float32Array.from(b));
      const quadratic32 = referenceSolve(a, b32).x.reduce((s, v, i) => s + v * b32[i], 0);
      expect(Math.abs(fromFloat32 - quadratic32) / quadratic32).toBeLessThan(TOLERANCE);

      const inverse = inverseFromCholesky(l, p);
      for (let j = 0; j < p; j++) {
        const column = referenceSolve(
          a,
          Array.from({ length: p }, (_, i) => (i === j ? 1 : 0)),
        ).x;
        const actual = Array.from({ length: p }, (_, i) => inverse[i * p + j]);
        expect(maxRelativeError(actual, column)).toBeLessThan(TOLERANCE);
      }
      expect(relativeAsymmetry(inverse, p)).toBe(0);
    }
  });

  it("triangular solves match their definitions", () => {
    const p = 7;
    const random = new SeededRandom(7);
    const l = cholesky(flatten(randomSpd(p, random)), p);
    const b = Float64Array.from({ length: p }, () => random.gaussian());
    const y = solveLower(l, p, b, new Float64Array(p));
    const x = solveLowerTransposed(l, p, b, new Float64Array(p));
    for (let i = 0; i < p; i++) {
      let ly = 0;
      let ltx = 0;
      for (let k = 0; k < p; k++) {
        ly += l[i * p + k] * y[k];
        ltx += l[k * p + i] * x[k];
      }
      expect(Math.abs(ly - b[i])).toBeLessThan(TOLERANCE * Math.abs(b[i]) + 1e-14);
      expect(Math.abs(ltx - b[i])).toBeLessThan(TOLERANCE * Math.abs(b[i]) + 1e-14);
    }
  });

  it("symmetric helpers", () => {
    const p = 4;
    const random = new SeededRandom(3);
    const source = Float64Array.from({ length: 2 * p }, () => random.gaussian());
    const a = new Float64Array(p * p);
    addWeightedOuterLower(a, p, source, p, 2.5);
    symmetrizeFromLower(a, p);
    for (let i = 0; i < p; i++) {
      for (let j = 0; j < p; j++) {
        expect(a[i * p + j]).toBeCloseTo(2.5 * source[p + i] * source[p + j], 14);
      }
    }
    expect(trace(a, p)).toBeCloseTo(2.5 * source.slice(p).reduce((s, v) => s + v * v, 0), 12);
    const out = matVec(a, p, Float64Array.of(1, 0, 0, 0), new Float64Array(p));
    expect(Array.from(out)).toEqual([0, 1, 2, 3].map((i) => a[i * p]));
    a[1] += 1;
    expect(relativeAsymmetry(a, p)).toBeGreaterThan(0);
  });

  it("blocked outer-product update and L·Lᵀ reconstruction match their definitions", () => {
    const p = 6;
    const random = new SeededRandom(17);
    const source = Float64Array.from({ length: 5 * p }, () => random.gaussian());
    const weights = [0.5, -1.25, 2, 0.75];
    const offsets = [p, 3 * p, 0, 4 * p];
    const blocked = new Float64Array(p * p);
    addWeightedOuterLower4(
      blocked,
      p,
      source,
      offsets[0],
      weights[0],
      offsets[1],
      weights[1],
      offsets[2],
      weights[2],
      offsets[3],
      weights[3],
    );
    for (let i = 0; i < p; i++) {
      for (let j = 0; j <= i; j++) {
        const expected = weights.reduce(
          (s, w, r) => s + w * source[offsets[r] + i] * source[offsets[r] + j],
          0,
        );
        expect(Math.abs(blocked[i * p + j] - expected)).toBeLessThan(1e-13);
      }
    }

    const a = randomSpd(p, random);
    const product = lowerProductFromCholesky(cholesky(flatten(a), p), p, new Float64Array(p * p));
    for (let i = 0; i < p; i++) {
      for (let j = 0; j <= i; j++) {
        expect(Math.abs(product[i * p + j] - a[i][j])).toBeLessThan(TOLERANCE * Math.abs(a[i][i]));
      }
    }
  });

  it("rejects matrices that are not positive definite", () => {
    const indefinite = Float64Array.of(1, 2, 2, 1);
    expect(() => choleskyInPlace(indefinite, 2)).toThrow(NotPositiveDefiniteError);
    try {
      cholesky(Float64Array.of(1, 0, 0, Number.NaN), 2);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(NotPositiveDefiniteError);
      expect((error as NotPositiveDefiniteError).code).toBe("NOT_POSITIVE_DEFINITE");
      expect((error as NotPositiveDefiniteError).pivotIndex).toBe(1);
    }
  });
});
