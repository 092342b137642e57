/**
 * Scores of a head on pairs: mean log-likelihood log σ(⟨Θ, Δ_j⟩) and accuracy (a pair is right when
 * ⟨Θ, Δ_j⟩ > 0; a tie counts one half, as a coin flip would).
 */
import { dot } from "../../math/linalg.js";
import { logSigmoid } from "../../math/logistic.js";
import { addProduct } from "../../math/matrix-product.js";
import type { DeltaStack } from "./delta-stack.js";
import type { PairBlock } from "./pair-data.js";

/** One user's factorized head Θ = Θ0 + B·W (Θ0 d×m, B d×k, W k×m). */
export interface HeadParams {
  readonly theta0: Float64Array;
  readonly B: Float64Array;
  readonly W: Float64Array;
  readonly k: number;
}

export interface PairScore {
  /** Σ_j log σ(⟨Θ_u, Δ_j⟩). */
  logLikelihood: number;
  /** Correct pairs, ties counting ½. */
  correct: number;
  n: number;
}

/** out = Θ0 + B·W (d×m). */
export function composeTheta(
  theta0: Float64Array,
  B: Float64Array,
  W: Float64Array,
  d: number,
  k: number,
  m: number,
  out: Float64Array = new Float64Array(d * m),
): Float64Array {
  out.set(theta0.subarray(0, d * m));
  addProduct(B, 0, W, 0, d, k, m, out);
  return out;
}

/** Scores every user's pairs with the Θ_u that `fillTheta(u, out)` writes. */
export function scoreStack(
  stack: DeltaStack,
  fillTheta: (user: number, out: Float64Array) => void,
): PairScore {
  const q = stack.d * stack.m;
  const theta = new Float64Array(q);
  let logLikelihood = 0;
  let correct = 0;
  for (let u = 0; u < stack.users; u++) {
    const start = stack.userStart[u];
    const end = stack.userStart[u + 1];
    if (start === end) continue;
    fillTheta(u, theta);
    for (let j = start; j < end; j++) {
      const z = dot(stack.deltas, j * q, theta, 0, q);
      logLikelihood += logSigmoid(z);
      correct += z > 0 ? 1 : z === 0 ? 0.5 : 0;
    }
  }
  return { logLikelihood, correct, n: stack.n };
}

/** Fraction of pairs the head orders right (ties ½); 0 for no pairs. */
export function accuracy(model: Float64Array | HeadParams, pairs: PairBlock): number {
  const score = scoreBlock(model, pairs);
  return score.n === 0 ? 0 : score.correct / score.n;
}

/** Mean log σ(⟨Θ, Δ_j⟩) per pair; 0 for no pairs. */
export function meanLogLikelihood(model: Float64Array | HeadParams, pairs: PairBlock): number {
  const score = scoreBlock(model, pairs);
  return score.n === 0 ? 0 : score.logLikelihood / score.n;
}

function scoreBlock(model: Float64Array | HeadParams, pairs: PairBlock): PairScore {
  const { d, m, count } = pairs;
  const theta = resolveTheta(model, d, m);
  if (!(pairs.deltas instanceof Float64Array) || pairs.deltas.length !== count * d * m) {
    throw new TypeError("pairs.deltas: expected a Float64Array of length count·d·m");
  }
  const stack: DeltaStack = {
    d,
    m,
    n: count,
    users: 1,
    userStart: Int32Array.of(0, count),
    deltas: pairs.deltas,
  };
  return scoreStack(stack, (_u, out) => out.set(theta));
}

function resolveTheta(model: Float64Array | HeadParams, d: number, m: number): Float64Array {
  const q = d * m;
  if (model instanceof Float64Array) {
    if (model.length !== q)
      throw new TypeError(`theta: expected a Float64Array of length d·m = ${q}`);
    return model;
  }
  const { theta0, B, W, k } = model;
  if (!Number.isInteger(k) || k < 1)
    throw new TypeError(`k: expected a positive integer, got ${k}`);
  for (const [name, value, length] of [
    ["theta0", theta0, q],
    ["B", B, d * k],
    ["W", W, k * m],
  ] as const) {
    if (!(value instanceof Float64Array) || value.length !== length) {
      throw new TypeError(`${name}: expected a Float64Array of length ${length}`);
    }
  }
  return composeTheta(theta0, B, W, d, k, m);
}
