import { describe, expect, it } from "vitest";
import { NewtonCgSolver } from "../../src/math/newton-cg.js";
import { SeededRandom } from "../../src/math/random.js";
import { subspaceDistance } from "../../src/math/subspace-distance.js";
import { symmetricEigen } from "../../src/math/symmetric-eigen.js";
import { thinQr } from "../../src/math/thin-qr.js";
import { fitLogistic } from "../../src/training/logistic-fit.js";
import { stackPairs } from "../../src/training/shared/delta-stack.js";
import { balanceFactors, principalFactors } from "../../src/training/shared/factor-balance.js";
import {
  GramPreconditioner,
  gramPreconditionerPays,
} from "../../src/training/shared/gram-preconditioner.js";
import {
  accuracy,
  buildSharedData,
  concatPairs,
  deltaBlock,
  meanLogLikelihood,
  type PairBlock,
  personalTheta,
  pretrainGlobal,
  type ShareBModel,
  type SharedData,
  trainLocal,
  trainShared,
} from "../../src/training/shared/index.js";
import { PairOperator } from "../../src/training/shared/pair-operator.js";
import type { SharedModel } from "../../src/training/shared/shared-model.js";
import {
  resolveTrainSettings,
  type TrainSettings,
} from "../../src/training/shared/train-settings.js";
import { escalateUserRidge } from "../../src/training/shared/train-shared.js";
import {
  IdentityMap,
  LeftFactorMap,
  RightFactorMap,
  type UserMap,
} from "../../src/training/shared/user-maps.js";
import { generateFeatureSynth } from "../../src/training/synth/index.js";

/** Float64 agreement for exact algebra (no iterative solve in between). */
const EXACT = 1e-10;
/** Agreement of two optimizers converged to a relative gradient of 1e-10. */
const OPTIMUM = 1e-6;

function gaussian(random: SeededRandom, n: number, scale = 1): Float64Array {
  return Float64Array.from({ length: n }, () => scale * random.gaussian());
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

function maxAbs(a: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]));
  return worst;
}

function randomBlock(random: SeededRandom, count: number, d: number, m: number): PairBlock {
  return { d, m, count, deltas: gaussian(random, count * d * m) };
}

/**
 * Flips each row Δ_j (length truth.length) unless a draw from the planted model σ(truth·Δ_j)
 * says it is preferred, so that the problem is not separable by construction.
 */
function orientByPlantedModel(random: SeededRandom, deltas: Float64Array, truth: Float64Array) {
  const p = truth.length;
  for (let j = 0; j < deltas.length / p; j++) {
    let z = 0;
    for (let i = 0; i < p; i++) z += truth[i]! * deltas[j * p + i]!;
    if (random.nextUnit() >= 1 / (1 + Math.exp(-z))) {
      for (let i = 0; i < p; i++) deltas[j * p + i]! *= -1;
    }
  }
}

// ---------- Naive float64 references ----------

/** Row-major product of an r×n and an n×c matrix. */
function matmul(a: Float64Array, b: Float64Array, r: number, n: number, c: number): Float64Array {
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < c; j++) {
      let s = 0;
      for (let t = 0; t < n; t++) s += a[i * n + t] * b[t * c + j];
      out[i * c + j] = s;
    }
  }
  return out;
}

function transpose(a: Float64Array, r: number, c: number): Float64Array {
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = a[i * c + j];
  return out;
}

/**
 * Nuclear norm via the eigenvalues of MᵀM (c×c), a different route from principalFactors. The
 * eigenvalues of the null space are rounding noise, whose square roots would not be: drop them.
 */
function nuclearNorm(mat: Float64Array, r: number, c: number): number {
  const gram = matmul(transpose(mat, r, c), mat, c, r, c);
  const { values } = symmetricEigen(gram, c);
  let sum = 0;
  for (const v of values) if (v > 1e-12 * values[0]) sum += Math.sqrt(v);
  return sum;
}

function squaredNorm(x: Float64Array): number {
  let s = 0;
  for (const v of x) s += v * v;
  return s;
}

/** Feature synth → train/validation data for the trainer, plus held-out test pairs per user. */
function plantedData(options: {
  d: number;
  m: number;
  k: number;
  users: number;
  pairs: number;
  testPairs: number;
  seed: number;
}): { data: SharedData; test: PairBlock[]; synth: ReturnType<typeof generateFeatureSynth> } {
  const { d, m, k, users, pairs, testPairs, seed } = options;
  const synth = generateFeatureSynth({ d, m, k, users, pairsPerUser: pairs + testPairs, seed });
  const data = buildSharedData(
    synth.users.map((u) => ({ user: u.user, pairs: u.pairs.slice(0, pairs) })),
    d,
    m,
    { seed },
  );
  const test = synth.users.map((u) => deltaBlock(u.pairs.slice(pairs), d, m));
  return { data, test, synth };
}

function meanOverUsers(count: number, score: (u: number) => number): number {
  let sum = 0;
  for (let u = 0; u < count; u++) sum += score(u);
  return sum / count;
}

// ---------- Dense building blocks ----------

describe("dense helpers", () => {
  it("thinQr gives orthonormal Q and A = Q·R, and completes rank-deficient columns", () => {
    const random = new SeededRandom(3);
    const rows = 9;
    const cols = 4;
    const a = gaussian(random, rows * cols);
    for (let i = 0; i < rows; i++) a[i * cols + 2] = 2 * a[i * cols] - a[i * cols + 1];
    const { q, r, deficient } = thinQr(a, rows, cols);
    expect(deficient).toEqual([2]);
    const qtq = matmul(transpose(q, rows, cols), q, cols, rows, cols);
    const identity = Float64Array.from({ length: cols * cols }, (_, i) =>
      i % (cols + 1) === 0 ? 1 : 0,
    );
    expect(maxAbsDiff(qtq, identity)).toBeLessThan(EXACT);
    expect(maxAbsDiff(matmul(q, r, rows, cols, cols), a)).toBeLessThan(EXACT);
  });

  it("symmetricEigen reconstructs A = V·Λ·Vᵀ with descending eigenvalues", () => {
    const random = new SeededRandom(5);
    const p = 7;
    const x = gaussian(random, p * p);
    const a = matmul(x, transpose(x, p, p), p, p, p);
    const { values, vectors } = symmetricEigen(a, p);
    for (let i = 1; i < p; i++) expect(values[i]).toBeLessThanOrEqual(values[i - 1]);
    const scaled = Float64Array.from(vectors, (v, i) => v * values[i % p]);
    const rebuilt = matmul(scaled, transpose(vectors, p, p), p, p, p);
    expect(maxAbsDiff(rebuilt, a)).toBeLessThan(EXACT * maxAbs(a));
  });
});

describe("subspaceDistance", () => {
  it("is 0 for the same span, √k for orthogonal spans and sin θ for one known angle", () => {
    const random = new SeededRandom(11);
    const d = 12;
    const k = 3;
    const b = gaussian(random, d * k);
    const mixed = matmul(b, gaussian(random, k * k), d, k, k);
    expect(subspaceDistance(b, mixed, d, k)).toBeLessThan(1e-7);

    const first = new Float64Array(d * k);
    const second = new Float64Array(d * k);
    for (let a = 0; a < k; a++) {
      first[a * k + a] = 1;
      second[(a + k) * k + a] = 2;
    }
    expect(subspaceDistance(first, second, d, k)).toBeCloseTo(Math.sqrt(k), 12);

    const theta = 0.3;
    const tilted = Float64Array.from(first);
    tilted[0] = Math.cos(theta);
    tilted[k * k] = Math.sin(theta);
    expect(subspaceDistance(first, tilted, d, k)).toBeCloseTo(Math.sin(theta), 12);
  });

  it("rejects mismatched shapes", () => {
    expect(() => subspaceDistance(new Float64Array(6), new Float64Array(8), 4, 2)).toThrow(
      TypeError,
    );
  });
});

// ---------- Data model ----------

describe("buildSharedData", () => {
  const d = 3;
  const m = 2;
  const random = new SeededRandom(1);
  const pairs = (n: number) =>
    Array.from({ length: n }, () => ({
      chosen: Float32Array.from(gaussian(random, d * m)),
      rejected: gaussian(random, d * m),
    }));
  const users = [
    { user: "alice", pairs: pairs(10) },
    { user: "bob", pairs: pairs(7) },
    { user: "carol", pairs: pairs(1) },
  ];

  it("holds out round(20%) of each user's pairs, disjoint from training, deterministically", () => {
    const data = buildSharedData(users, d, m, { seed: 4 });
    expect(data.users.map((u) => [u.train.count, u.validation.count])).toEqual([
      [8, 2],
      [6, 1],
      [1, 0],
    ]);
    const alice = deltaBlock(users[0].pairs, d, m);
    const rows = (block: PairBlock) =>
      Array.from({ length: block.count }, (_, j) =>
        Array.from(block.deltas.subarray(j * d * m, (j + 1) * d * m)).join(","),
      );
    const all = new Set(rows(alice));
    const split = [...rows(data.users[0].train), ...rows(data.users[0].validation)];
    expect(new Set(split)).toEqual(all);
    expect(split.length).toBe(all.size);

    expect(buildSharedData(users, d, m, { seed: 4 })).toEqual(data);
    const reordered = buildSharedData([...users].reverse(), d, m, { seed: 4 });
    expect(reordered.users[2]).toEqual(data.users[0]);
  });

  it("stores Δ = Φ(chosen) − Φ(rejected) in float64 and validates its input", () => {
    const block = deltaBlock(users[1].pairs, d, m);
    const { chosen, rejected } = users[1].pairs[3];
    const expected = Float64Array.from(chosen, (v, i) => v - rejected[i]);
    expect(maxAbsDiff(block.deltas.subarray(3 * d * m, 4 * d * m), expected)).toBe(0);
    expect(() =>
      deltaBlock([{ chosen: new Float64Array(5), rejected: new Float64Array(6) }], d, m),
    ).toThrow(TypeError);
    expect(() => buildSharedData([users[0], users[0]], d, m)).toThrow(TypeError);
  });
});

// ---------- Operators and solvers ----------

describe("PairOperator", () => {
  it("matches explicitly materialized features for Θ0, V·W_u and B_u·A blocks", () => {
    const random = new SeededRandom(21);
    const d = 5;
    const m = 2;
    const k = 3;
    const blocks = [
      randomBlock(random, 4, d, m),
      randomBlock(random, 0, d, m),
      randomBlock(random, 3, d, m),
    ];
    const stack = stackPairs(blocks, d, m);
    const right = blocks.map(() => gaussian(random, k * m));
    const left = blocks.map(() => gaussian(random, d * k));
    const maps: UserMap[] = [
      new IdentityMap(d, m),
      new RightFactorMap(d, k, m, right),
      new LeftFactorMap(d, k, m, left),
    ];
    const operator = new PairOperator(stack, maps);
    const p = d * m + d * k + k * m;
    expect(operator.p).toBe(p);

    // Row j of X: [Δ_j ; Δ_j·W_uᵀ ; B_uᵀ·Δ_j].
    const x = new Float64Array(stack.n * p);
    for (let u = 0; u < blocks.length; u++) {
      for (let j = stack.userStart[u]; j < stack.userStart[u + 1]; j++) {
        const delta = stack.deltas.slice(j * d * m, (j + 1) * d * m);
        const row = [
          ...delta,
          ...matmul(delta, transpose(right[u], k, m), d, m, k),
          ...matmul(transpose(left[u], d, k), delta, k, d, m),
        ];
        x.set(row, j * p);
      }
    }
    const w = gaussian(random, p);
    const r = gaussian(random, stack.n);
    const c = gaussian(random, stack.n);
    const scores = new Float64Array(stack.n);
    operator.apply(w, scores);
    const adjoint = new Float64Array(p);
    operator.applyTranspose(r, adjoint);
    const squares = new Float64Array(p);
    operator.squaredTranspose(c, squares);
    const expectedScores = matmul(x, w, stack.n, p, 1);
    const expectedAdjoint = matmul(transpose(x, stack.n, p), r, p, stack.n, 1);
    const expectedSquares = matmul(
      transpose(
        Float64Array.from(x, (v) => v * v),
        stack.n,
        p,
      ),
      c,
      p,
      stack.n,
      1,
    );
    expect(maxAbsDiff(scores, expectedScores)).toBeLessThan(EXACT * maxAbs(expectedScores));
    expect(maxAbsDiff(adjoint, expectedAdjoint)).toBeLessThan(EXACT * maxAbs(expectedAdjoint));
    expect(maxAbsDiff(squares, expectedSquares)).toBeLessThan(EXACT * maxAbs(expectedSquares));
  });
});

describe("NewtonCgSolver", () => {
  it("reaches the dense Newton optimum of a ridge logistic regression with offsets", () => {
    const random = new SeededRandom(8);
    const d = 6;
    const m = 2;
    const p = d * m;
    const block = randomBlock(random, 80, d, m);
    const truth = gaussian(random, p, 0.5);
    orientByPlantedModel(random, block.deltas, truth);
    const offset = gaussian(random, block.count, 0.3);
    const lambda = 2.5;
    const operator = new PairOperator(stackPairs([block], d, m), [new IdentityMap(d, m)]);
    const w = new Float64Array(p);
    const outcome = new NewtonCgSolver().solve(
      { operator, offset, penalty: new Float64Array(p).fill(lambda) },
      w,
      { tolerance: 1e-11, maxIterations: 100, maxCgIterations: 200 },
    );
    expect(outcome.converged).toBe(true);
    const reference = fitLogistic(
      { g: block.deltas, o: offset, n: block.count, p },
      { kind: "isotropic", lambda },
      { tolerance: 1e-12 },
    );
    expect(maxAbsDiff(w, reference.w)).toBeLessThan(OPTIMUM * (1 + maxAbs(reference.w)));
    expect(outcome.logLikelihood).toBeCloseTo(reference.logLikelihood, 8);
  });
});

describe("GramPreconditioner", () => {
  it("reaches the same optimum as the Jacobi preconditioner in fewer CG steps on correlated columns", () => {
    const random = new SeededRandom(21);
    const d = 24;
    const m = 1;
    const n = 400;
    // Columns = a few shared factors plus a little noise: the collinearity of overlapping counts.
    const factors = gaussian(random, n * 3);
    const loadings = gaussian(random, 3 * d);
    const deltas = gaussian(random, n * d, 0.05);
    for (let j = 0; j < n; j++) {
      for (let i = 0; i < d; i++) {
        for (let f = 0; f < 3; f++) deltas[j * d + i] += factors[j * 3 + f] * loadings[f * d + i];
      }
    }
    orientByPlantedModel(random, deltas, gaussian(random, d, 0.3));
    const stack = stackPairs([{ d, m, count: n, deltas }], d, m);
    expect(gramPreconditionerPays(stack)).toBe(true);
    const penalty = new Float64Array(d).fill(0.01);
    const operator = new PairOperator(stack, [new IdentityMap(d, m)]);
    const settings = { tolerance: 1e-10, maxIterations: 100, maxCgIterations: 500 };
    const jacobi = new Float64Array(d);
    const plain = new NewtonCgSolver().solve({ operator, offset: null, penalty }, jacobi, settings);
    const gram = new Float64Array(d);
    const preconditioner = new GramPreconditioner(stack, penalty);
    const fast = new NewtonCgSolver().solve(
      { operator, offset: null, penalty, preconditioner },
      gram,
      settings,
    );
    expect(plain.converged && fast.converged).toBe(true);
    const reference = fitLogistic(
      { g: deltas, o: new Float64Array(n), n, p: d },
      { kind: "isotropic", lambda: 0.01 },
      { tolerance: 1e-12 },
    );
    expect(maxAbsDiff(gram, reference.w)).toBeLessThan(OPTIMUM * (1 + maxAbs(reference.w)));
    expect(maxAbsDiff(jacobi, reference.w)).toBeLessThan(OPTIMUM * (1 + maxAbs(reference.w)));
    expect(fast.cgIterations).toBeLessThan(plain.cgIterations / 2);
  });

  it("is not built for fewer pairs than unknowns", () => {
    const random = new SeededRandom(3);
    expect(gramPreconditionerPays(stackPairs([randomBlock(random, 10, 8, 2)], 8, 2))).toBe(false);
  });
});

describe("pretrainGlobal and trainLocal", () => {
  const d = 4;
  const m = 2;
  const p = d * m;
  const { data } = plantedData({ d, m, k: 2, users: 5, pairs: 12, testPairs: 0, seed: 2 });

  it("pretrainGlobal is the ridge logistic fit on every user's training pairs pooled", () => {
    const pooled = concatPairs(data.users.map((u) => u.train));
    const lambda = 3;
    const head = pretrainGlobal(data, { l2: lambda, tolerance: 1e-11 });
    expect(head.b0).toBe(0);
    expect(head.converged).toBe(true);
    const reference = fitLogistic(
      { g: pooled.deltas, o: new Float64Array(pooled.count), n: pooled.count, p },
      { kind: "isotropic", lambda },
      { tolerance: 1e-12 },
    );
    expect(maxAbsDiff(head.theta0, reference.w)).toBeLessThan(OPTIMUM * (1 + maxAbs(reference.w)));
  });

  it("trainLocal is the ridge logistic fit on the user's own pairs", () => {
    const pairs = data.users[1].train;
    const theta = trainLocal(pairs, 0.7, { tolerance: 1e-11 });
    const reference = fitLogistic(
      { g: pairs.deltas, o: new Float64Array(pairs.count), n: pairs.count, p },
      { kind: "isotropic", lambda: 0.7 },
      { tolerance: 1e-12 },
    );
    expect(maxAbsDiff(theta, reference.w)).toBeLessThan(OPTIMUM * (1 + maxAbs(reference.w)));
  });

  it("accuracy and meanLogLikelihood score ⟨Θ, Δ⟩, for Θ or (Θ0, B, W)", () => {
    const random = new SeededRandom(9);
    const pairs = data.users[0].train;
    const theta0 = gaussian(random, p);
    const B = gaussian(random, d * 2);
    const W = gaussian(random, 2 * m);
    const theta = Float64Array.from(theta0);
    const bw = matmul(B, W, d, 2, m);
    for (let i = 0; i < p; i++) theta[i] += bw[i];
    let correct = 0;
    let logLikelihood = 0;
    for (let j = 0; j < pairs.count; j++) {
      let z = 0;
      for (let i = 0; i < p; i++) z += theta[i] * pairs.deltas[j * p + i];
      if (z > 0) correct++;
      logLikelihood += -Math.log1p(Math.exp(-z));
    }
    expect(accuracy({ theta0, B, W, k: 2 }, pairs)).toBeCloseTo(correct / pairs.count, 12);
    expect(accuracy(theta, pairs)).toBeCloseTo(correct / pairs.count, 12);
    expect(meanLogLikelihood(theta, pairs)).toBeCloseTo(logLikelihood / pairs.count, 10);
    expect(accuracy(new Float64Array(p), pairs)).toBe(0.5);
  });
});

// ---------- Factor balancing ----------

describe("balanceFactors", () => {
  it("keeps every B·W_u, lowers the penalty to 2√(λ_Bλ_W)·‖[B·W_1 … B·W_U]‖_*", () => {
    const random = new SeededRandom(31);
    const d = 10;
    const k = 3;
    const m = 2;
    const users = 6;
    const B = gaussian(random, d * k, 3);
    const W = Array.from({ length: users }, () => gaussian(random, k * m, 0.2));
    const products = W.map((w) => matmul(B, w, d, k, m));
    const lambdaB = 2;
    const lambdaW = 5;
    const penalty = () =>
      lambdaB * squaredNorm(B) + lambdaW * W.reduce((s, w) => s + squaredNorm(w), 0);
    const before = penalty();
    balanceFactors(B, W, d, k, m, lambdaB, lambdaW);
    W.forEach((w, u) => {
      expect(maxAbsDiff(matmul(B, w, d, k, m), products[u])).toBeLessThan(
        EXACT * maxAbs(products[u]),
      );
    });
    const stacked = new Float64Array(d * users * m);
    products.forEach((prod, u) => {
      for (let i = 0; i < d; i++)
        for (let c = 0; c < m; c++) stacked[i * users * m + u * m + c] = prod[i * m + c];
    });
    const expected = 2 * Math.sqrt(lambdaB * lambdaW) * nuclearNorm(stacked, d, users * m);
    expect(penalty()).toBeLessThan(before);
    expect(penalty()).toBeCloseTo(expected, 8);

    const { basis, coefficients } = principalFactors(B, W, d, k, m);
    const gram = matmul(transpose(basis, d, k), basis, k, d, k);
    expect(
      maxAbsDiff(
        gram,
        Float64Array.from({ length: k * k }, (_, i) => (i % (k + 1) === 0 ? 1 : 0)),
      ),
    ).toBeLessThan(EXACT);
    coefficients.forEach((w, u) => {
      expect(maxAbsDiff(matmul(basis, w, d, k, m), products[u])).toBeLessThan(
        EXACT * maxAbs(products[u]),
      );
    });
  });
});

// ---------- The trainer on planted data ----------

describe("trainShared on the feature synth", () => {
  const base = { d: 32, m: 2, k: 4 };

  it("recovers span(B*) better as users and pairs grow", () => {
    const distance = (users: number, pairs: number) =>
      meanOverUsers(2, (s) => {
        const seed = 100 + s;
        const { data, synth } = plantedData({ ...base, users, pairs, testPairs: 0, seed });
        const model = trainShared(data, { rank: base.k, seed }) as ShareBModel;
        return subspaceDistance(model.B, synth.B, base.d, base.k);
      });
    const small = distance(10, 16);
    const large = distance(40, 64);
    // A random 4-dimensional subspace of R^32 lies at ≈ √(4·(1 − 4/32)) ≈ 1.87.
    expect(small).toBeGreaterThan(1.4);
    expect(large).toBeLessThan(1.1);
    expect(large).toBeLessThan(small - 0.5);
  });

  it("beats the global head on held-out pairs, and the local heads when pairs are few", () => {
    const many = plantedData({ ...base, users: 40, pairs: 64, testPairs: 40, seed: 7 });
    const model = trainShared(many.data, { rank: base.k, seed: 7 });
    const global = pretrainGlobal(many.data);
    const users = many.data.users.length;
    const sharedAccuracy = meanOverUsers(users, (u) =>
      accuracy(personalTheta(model, u), many.test[u]),
    );
    const globalAccuracy = meanOverUsers(users, (u) => accuracy(global.theta0, many.test[u]));
    const sharedLogLikelihood = meanOverUsers(users, (u) =>
      meanLogLikelihood(personalTheta(model, u), many.test[u]),
    );
    const globalLogLikelihood = meanOverUsers(users, (u) =>
      meanLogLikelihood(global.theta0, many.test[u]),
    );
    expect(sharedAccuracy).toBeGreaterThan(globalAccuracy + 0.04);
    expect(sharedLogLikelihood).toBeGreaterThan(globalLogLikelihood + 0.05);

    const few = plantedData({ ...base, users: 40, pairs: 12, testPairs: 40, seed: 8 });
    const fewModel = trainShared(few.data, { rank: base.k, seed: 8 });
    const fewShared = meanOverUsers(users, (u) =>
      accuracy(personalTheta(fewModel, u), few.test[u]),
    );
    const fewLocal = meanOverUsers(users, (u) => {
      const own = concatPairs([few.data.users[u].train, few.data.users[u].validation]);
      return accuracy(trainLocal(own), few.test[u]);
    });
    expect(fewShared).toBeGreaterThan(fewLocal + 0.03);
    // With ~10 pairs per user span(B*) is out of reach; validation falls back towards the global head.
    const fewGlobal = pretrainGlobal(few.data);
    const fewGlobalAccuracy = meanOverUsers(users, (u) => accuracy(fewGlobal.theta0, few.test[u]));
    expect(fewShared).toBeGreaterThan(fewGlobalAccuracy - 0.01);
  });

  it("is deterministic for a seed, never lowers the objective and keeps the best validation round", () => {
    const { data } = plantedData({ ...base, users: 20, pairs: 32, testPairs: 0, seed: 12 });
    const options = { rank: base.k, seed: 5, maxRounds: 6, patience: 6 } as const;
    const first = trainShared(data, options) as ShareBModel;
    const second = trainShared(data, options) as ShareBModel;
    expect(second.theta0).toEqual(first.theta0);
    expect(second.B).toEqual(first.B);
    expect(second.W).toEqual(first.W);
    expect(second.report.history.map((r) => r.objective)).toEqual(
      first.report.history.map((r) => r.objective),
    );

    const history = first.report.history;
    expect(history[0].round).toBe(0);
    for (let r = 1; r < history.length; r++) {
      const slack = 1e-9 * Math.abs(history[r - 1].objective);
      expect(history[r].objective).toBeGreaterThanOrEqual(history[r - 1].objective - slack);
    }
    const bestValidation = Math.max(...history.map((r) => r.validationLogLikelihood ?? -Infinity));
    expect(history[first.report.bestRound].validationLogLikelihood).toBe(bestValidation);
    expect(first.report.validationLogLikelihood).toBe(bestValidation);

    const random = trainShared(data, { ...options, init: "random" }) as ShareBModel;
    const otherSeed = trainShared(data, { ...options, init: "random", seed: 6 }) as ShareBModel;
    expect(otherSeed.B).not.toEqual(random.B);
  });

  it("runs every init and returns an orthonormal B, per-user W and a population prior", () => {
    const { d, m, k } = base;
    const { data } = plantedData({ ...base, users: 12, pairs: 24, testPairs: 0, seed: 3 });
    const progress: number[] = [];
    let fits = 0;
    for (const init of ["global", "warmup", "random"] as const) {
      const model = trainShared(data, {
        rank: k,
        init,
        seed: 1,
        maxRounds: 4,
        onProgress: (record) => progress.push(record.round),
      }) as ShareBModel;
      expect(model.share).toBe("B");
      expect(model.b0).toBe(0);
      expect(model.theta0.length).toBe(d * m);
      expect(model.B.length).toBe(d * k);
      expect(model.W.map((w) => w.length)).toEqual(data.users.map(() => k * m));
      expect(model.users).toEqual(data.users.map((u) => u.user));
      const gram = matmul(transpose(model.B, d, k), model.B, k, d, k);
      const identity = Float64Array.from({ length: k * k }, (_, i) => (i % (k + 1) === 0 ? 1 : 0));
      expect(maxAbsDiff(gram, identity)).toBeLessThan(EXACT);

      const p = k * m;
      const mean = new Float64Array(p);
      for (const w of model.W) for (let i = 0; i < p; i++) mean[i] += w[i] / model.W.length;
      expect(maxAbsDiff(model.prior.mean, mean)).toBeLessThan(EXACT);
      // The covariance must be a valid (symmetric, positive-definite) population prior.
      const prior = {
        kind: "population",
        mean: model.prior.mean,
        cov: model.prior.cov,
        tau: 1,
      } as const;
      expect(() =>
        fitLogistic({ g: new Float64Array(0), o: new Float64Array(0), n: 0, p }, prior),
      ).not.toThrow();
      const variances = Array.from({ length: p }, (_, i) => model.prior.cov[i * p + i]);
      expect(Math.min(...variances)).toBeGreaterThan(0);

      const history = model.report.history;
      expect(history.length).toBe(model.report.rounds + 1);
      expect(history.at(-1)!.objective).toBeGreaterThan(history[0].objective);
      expect(model.report.seconds.total).toBeGreaterThan(0);
      expect(Number.isFinite(personalTheta(model, 0)[0])).toBe(true);
      fits += model.report.l2UserTried.length;
    }
    // One round 0 per fit: a fit that never beat round 0 is run again with a stronger λ_user.
    expect(progress.filter((round) => round === 0).length).toBe(fits);
  });

  it("share A (ablation) runs, returns valid shapes and never lowers its objective", () => {
    const { d, m, k } = base;
    const { data, test } = plantedData({ ...base, users: 12, pairs: 24, testPairs: 10, seed: 4 });
    for (const init of ["global", "random"] as const) {
      const model = trainShared(data, {
        rank: k,
        share: "A",
        init,
        seed: 2,
        maxRounds: 3,
        patience: 3,
      });
      if (model.share !== "A") throw new Error("expected a share-A model");
      expect(model.theta0.length).toBe(d * m);
      expect(model.A.length).toBe(k * m);
      expect(model.userB.map((b) => b.length)).toEqual(data.users.map(() => d * k));
      const history = model.report.history;
      for (let r = 1; r < history.length; r++) {
        expect(history[r].objective).toBeGreaterThanOrEqual(
          history[r - 1].objective - 1e-9 * Math.abs(history[r - 1].objective),
        );
      }
      const theta = personalTheta(model, 3);
      const expected = Float64Array.from(model.theta0);
      const bA = matmul(model.userB[3], model.A, d, k, m);
      for (let i = 0; i < d * m; i++) expected[i] += bA[i];
      expect(maxAbsDiff(theta, expected)).toBeLessThan(EXACT);
      const acc = accuracy(theta, test[3]);
      expect(acc).toBeGreaterThanOrEqual(0);
      expect(acc).toBeLessThanOrEqual(1);
    }
  });

  it("handles users without pairs and data without validation pairs", () => {
    const { d, m } = base;
    const synth = generateFeatureSynth({ d, m, k: 2, users: 5, pairsPerUser: 12, seed: 6 });
    const users = synth.users.map((u, i) => ({ user: u.user, pairs: i === 0 ? [] : u.pairs }));
    const data = buildSharedData(users, d, m, { validationFraction: 0 });
    for (const share of ["B", "A"] as const) {
      const model = trainShared(data, { rank: 2, share, maxRounds: 3 });
      expect(model.report.validationLogLikelihood).toBeNull();
      expect(model.report.bestRound).toBe(model.report.rounds);
      const personal = model.share === "B" ? model.W[0] : model.userB[0];
      expect(maxAbs(personal)).toBe(0);
      if (model.share === "B") {
        const p = 2 * m;
        const mean = new Float64Array(p);
        for (const w of model.W.slice(1)) for (let i = 0; i < p; i++) mean[i] += w[i] / 4;
        expect(maxAbsDiff(model.prior.mean, mean)).toBeLessThan(EXACT);
      }
    }
  });

  it("rejects invalid options", () => {
    const { data } = plantedData({ ...base, users: 2, pairs: 4, testPairs: 0, seed: 1 });
    expect(() => trainShared(data, { rank: 0 })).toThrow(TypeError);
    expect(() => trainShared(data, { rank: 33 })).toThrow(TypeError);
    expect(() => trainShared(data, { rank: 2, l2: -1 })).toThrow(TypeError);
    expect(() => trainShared(data, { rank: 2, share: "C" as "A" })).toThrow(TypeError);
    expect(() => trainShared(data, { rank: 2, init: "zero" as "global" })).toThrow(TypeError);
    expect(() => trainShared({ ...data, users: [] }, { rank: 2 })).toThrow(TypeError);
  });
});

describe("escalateUserRidge", () => {
  /** A trainer whose fits beat round 0 from personal ridge `enough` on. */
  const stub = (enough: number, tried: number[]) => (settings: TrainSettings) => {
    tried.push(settings.l2User);
    const bestRound = settings.l2User >= enough ? 2 : 0;
    return { report: { bestRound, validationLogLikelihood: -0.6 } } as unknown as SharedModel;
  };

  it("refits with a 3× stronger personal ridge while round 0 stays best, and reports the ridges", () => {
    const settings = resolveTrainSettings({ rank: 2, l2User: 10 }, 8);
    const seen: number[] = [];
    const model = escalateUserRidge(settings, stub(90, seen));
    expect(seen).toEqual([10, 30, 90]);
    expect(model.report.l2User).toBe(90);
    expect(model.report.l2UserTried).toEqual([10, 30, 90]);
  });

  it("stops after userRidgeRetries, and never retries a fit that beat round 0", () => {
    const never: number[] = [];
    const settings = resolveTrainSettings({ rank: 2, l2User: 10, userRidgeRetries: 2 }, 8);
    expect(escalateUserRidge(settings, stub(Infinity, never)).report.l2User).toBe(90);
    expect(never).toEqual([10, 30, 90]);
    const once: number[] = [];
    escalateUserRidge(resolveTrainSettings({ rank: 2, l2User: 10 }, 8), stub(1, once));
    expect(once).toEqual([10]);
    const off: number[] = [];
    escalateUserRidge(resolveTrainSettings({ rank: 2, userRidgeRetries: 0 }, 8), stub(1e9, off));
    expect(off).toHaveLength(1);
    expect(() => resolveTrainSettings({ rank: 2, userRidgeRetries: -1 }, 8)).toThrow(
      /userRidgeRetries/,
    );
  });

  it("keeps the ridge asked for when the fit beats the global head", () => {
    const { data } = plantedData({
      d: 32,
      m: 2,
      k: 4,
      users: 20,
      pairs: 32,
      testPairs: 0,
      seed: 12,
    });
    const model = trainShared(data, { rank: 4, seed: 5, l2User: 30 });
    expect(model.report.bestRound).toBeGreaterThan(0);
    expect(model.report.l2User).toBe(30);
    expect(model.report.l2UserTried).toEqual([30]);
    // At a ridge this weak round 0 stays best on these data, and the fit is run again.
    const weak = trainShared(data, { rank: 4, seed: 5, l2User: 2 });
    expect(weak.report.l2UserTried.slice(0, 2)).toEqual([2, 6]);
    expect(weak.report.l2User).toBe(weak.report.l2UserTried.at(-1));
  });
});
