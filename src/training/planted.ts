/**
 * Deterministic synthetic pair statistics drawn from a planted adapter w*, for tests and benches.
 * Each candidate pair (a, b) has g ~ N(0, gScale²·I_p) and o ~ N(0, offsetStd²); a wins with the
 * Bradley–Terry probability σ(o + w*·g), and the pair is oriented chosen − rejected.
 * w*, the training pairs and the test pairs come from separate seeded streams, so for one seed the
 * training set of size n is a prefix of the one of size n' > n and the test set does not depend on n.
 */

import { sigmoid } from "../math/logistic.js";
import { deriveSeed, SeededRandom } from "../math/random.js";
import type { PairStats } from "./logistic-fit.js";

export interface PlantedOptions {
  p: number;
  /** Training pairs. */
  n: number;
  /** Held-out pairs (default 0). */
  testN?: number;
  seed: number;
  /** The planted adapter; default: entries ~ N(0, wScale²/p), so ‖w*‖ ≈ wScale. */
  wStar?: Float64Array;
  /** Default 2. */
  wScale?: number;
  /** Default 1. */
  gScale?: number;
  /** Default 1. */
  offsetStd?: number;
}

export interface PlantedPairs {
  stats: PairStats;
  test: PairStats;
  wStar: Float64Array;
}

const W_STREAM = 0;
const TRAIN_STREAM = 1;
const TEST_STREAM = 2;

export function plantedPairs(options: PlantedOptions): PlantedPairs {
  const { p, n, seed } = options;
  const testN = options.testN ?? 0;
  const wScale = options.wScale ?? 2;
  const gScale = options.gScale ?? 1;
  const offsetStd = options.offsetStd ?? 1;
  for (const [name, value] of [
    ["p", p],
    ["n", n],
    ["testN", testN],
  ] as const) {
    if (!Number.isInteger(value) || value < (name === "p" ? 1 : 0)) {
      throw new TypeError(
        `${name}: expected a ${name === "p" ? "positive" : "non-negative"} integer`,
      );
    }
  }
  for (const [name, value] of [
    ["wScale", wScale],
    ["gScale", gScale],
    ["offsetStd", offsetStd],
  ] as const) {
    if (!Number.isFinite(value) || value < 0) {
      throw new TypeError(`${name}: expected a finite non-negative number, got ${String(value)}`);
    }
  }
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff) {
    throw new TypeError(`seed: expected an integer in [0, 2^32 - 1], got ${String(seed)}`);
  }
  let wStar: Float64Array;
  if (options.wStar !== undefined) {
    if (!(options.wStar instanceof Float64Array) || options.wStar.length !== p) {
      throw new TypeError(`wStar: expected a Float64Array of length p = ${p}`);
    }
    wStar = Float64Array.from(options.wStar);
  } else {
    const random = new SeededRandom(deriveSeed(seed, W_STREAM));
    const std = wScale / Math.sqrt(p);
    wStar = Float64Array.from({ length: p }, () => std * random.gaussian());
  }
  const draw = (count: number, stream: number) =>
    drawPairs(wStar, count, new SeededRandom(deriveSeed(seed, stream)), gScale, offsetStd);
  return { stats: draw(n, TRAIN_STREAM), test: draw(testN, TEST_STREAM), wStar };
}

function drawPairs(
  wStar: Float64Array,
  n: number,
  random: SeededRandom,
  gScale: number,
  offsetStd: number,
): PairStats {
  const p = wStar.length;
  const g = new Float64Array(n * p);
  const o = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    const offset = j * p;
    o[j] = offsetStd * random.gaussian();
    let logit = o[j];
    for (let i = 0; i < p; i++) {
      const value = gScale * random.gaussian();
      g[offset + i] = value;
      logit += wStar[i] * value;
    }
    if (random.nextUnit() >= sigmoid(logit)) {
      o[j] = -o[j];
      for (let i = 0; i < p; i++) g[offset + i] = -g[offset + i];
    }
  }
  return { g, o, n, p };
}
