import { dot } from "../../math/linalg.js";
import { sigmoid } from "../../math/logistic.js";
import { gaussianVector, type Sfc32Random } from "../../math/random.js";
import { randomOrthonormalColumns } from "../../math/random-orthonormal.js";
import { ATTRIBUTE_COUNT, attributes } from "./attributes.js";
import { composeResponse, drawStyle } from "./compose-response.js";
import { PROMPTS } from "./vocabulary.js";

/** The planted preference model: v_i = v0 + U·z_i, P(a ≻ b) = σ(scale·v_i·(a(a) − a(b))). */
export interface Population {
  readonly rank: number;
  readonly v0: Float64Array;
  /** q×r row-major, orthonormal columns. */
  readonly U: Float64Array;
  readonly scale: number;
  /** E‖U·z‖² / E‖v0‖². */
  readonly disagreement: number;
}

export const TARGET_BAYES_ACCURACY = 0.85;
const CALIBRATION_PAIRS = 2000;

/**
 * z_i ~ N(0, ρ·(q/r)·I) so that E‖U·z_i‖² = ρ·q = ρ·E‖v0‖²: at ρ = 1 users disagree as much as
 * they agree.
 */
export function drawUserZ(
  rng: Sfc32Random,
  population: Pick<Population, "rank" | "disagreement">,
): Float64Array {
  const { rank, disagreement } = population;
  return gaussianVector(rng, rank, Math.sqrt((disagreement * ATTRIBUTE_COUNT) / rank));
}

export function userVector(population: Population, z: ArrayLike<number>): Float64Array {
  const { v0, U, rank } = population;
  const v = Float64Array.from(v0);
  for (let j = 0; j < v.length; j++) {
    for (let c = 0; c < rank; c++) v[j] += U[j * rank + c]! * z[c]!;
  }
  return v;
}

/** Two distinct responses to one prompt, with independently drawn styles. */
export function drawResponsePair(rng: Sfc32Random): { prompt: string; a: string; b: string } {
  const { prompt, topic } = rng.pick(PROMPTS);
  const a = composeResponse(rng, topic, drawStyle(rng));
  let b = composeResponse(rng, topic, drawStyle(rng));
  while (b === a) b = composeResponse(rng, topic, drawStyle(rng));
  return { prompt, a, b };
}

export function attributeDifference(a: string, b: string): Float64Array {
  const da = attributes(a);
  const db = attributes(b);
  for (let j = 0; j < da.length; j++) da[j] -= db[j]!;
  return da;
}

/** The scale s with mean σ(s·|x|) = target: expected accuracy is increasing in s, so bisect log s. */
function calibrateScale(margins: Float64Array, target: number): number {
  const accuracy = (s: number) => {
    let sum = 0;
    for (const x of margins) sum += sigmoid(s * Math.abs(x));
    return sum / margins.length;
  };
  let lo = -12;
  let hi = 12;
  for (let i = 0; i < 80; i++) {
    const mid = (lo + hi) / 2;
    if (accuracy(Math.exp(mid)) < target) lo = mid;
    else hi = mid;
  }
  return Math.exp((lo + hi) / 2);
}

export function plantPopulation(
  rank: number,
  disagreement: number,
  paramsRng: Sfc32Random,
  calibrationRng: Sfc32Random,
): Population {
  const v0 = gaussianVector(paramsRng, ATTRIBUTE_COUNT);
  const U = randomOrthonormalColumns(paramsRng, ATTRIBUTE_COUNT, rank);
  const unscaled: Population = { rank, v0, U, scale: 1, disagreement };
  const margins = new Float64Array(CALIBRATION_PAIRS);
  for (let i = 0; i < CALIBRATION_PAIRS; i++) {
    const v = userVector(unscaled, drawUserZ(calibrationRng, unscaled));
    const { a, b } = drawResponsePair(calibrationRng);
    margins[i] = dot(v, 0, attributeDifference(a, b), 0, ATTRIBUTE_COUNT);
  }
  return { ...unscaled, scale: calibrateScale(margins, TARGET_BAYES_ACCURACY) };
}
