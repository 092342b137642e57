import { dot } from "../../math/linalg.js";
import { sigmoid } from "../../math/logistic.js";
import { Sfc32Random } from "../../math/random.js";
import { ATTRIBUTE_NAMES } from "./attributes.js";
import {
  attributeDifference,
  drawResponsePair,
  drawUserZ,
  type Population,
  plantPopulation,
  userVector,
} from "./population.js";
import { validateSynthOptions } from "./synth-options.js";
import type { PlantedUser, SynthDataset, SynthOptions, SynthRow } from "./synth-types.js";

// Each part draws from its own stream, so e.g. the planted model depends only on seed and rank.
const STREAM = { params: 1, calibration: 2, users: 3, seenPairs: 4, newPairs: 5 } as const;

class SplitCollector {
  readonly rows: SynthRow[] = [];
  #bayes = 0;
  #global = 0;

  constructor(
    readonly population: Population,
    readonly rng: Sfc32Random,
  ) {}

  /** Samples `count` labelled pairs for one user from P(a ≻ b) = σ(s·v·(a(a) − a(b))). */
  add(user: string, v: Float64Array, count: number): void {
    for (let n = 0; n < count; n++) {
      const { prompt, a, b } = drawResponsePair(this.rng);
      const diff = attributeDifference(a, b);
      const p = sigmoid(this.population.scale * dot(v, 0, diff, 0, diff.length));
      const aWins = this.rng.nextUnit() < p;
      const g = dot(this.population.v0, 0, diff, 0, diff.length);
      this.#bayes += Math.max(p, 1 - p);
      this.#global += g > 0 ? p : g < 0 ? 1 - p : 0.5;
      this.rows.push({ user, prompt, chosen: aWins ? a : b, rejected: aWins ? b : a });
    }
  }

  get bayesAccuracy(): number | null {
    return this.rows.length === 0 ? null : this.#bayes / this.rows.length;
  }

  get globalModelAccuracy(): number | null {
    return this.rows.length === 0 ? null : this.#global / this.rows.length;
  }
}

function userId(index: number, total: number): string {
  return `user-${String(index).padStart(Math.max(4, String(total - 1).length), "0")}`;
}

/** A deterministic data set of users' pairwise preferences with a planted rank-r structure. */
export function generateSynth(options: SynthOptions): SynthDataset {
  validateSynthOptions(options);
  const { seed, rank } = options;
  const population = plantPopulation(
    rank,
    options.disagreement ?? 1,
    new Sfc32Random(seed, STREAM.params),
    new Sfc32Random(seed, STREAM.calibration),
  );
  const usersRng = new Sfc32Random(seed, STREAM.users);
  const total = options.users + options.newUsers;
  const planted: PlantedUser[] = [];
  const vectors: Float64Array[] = [];
  for (let i = 0; i < total; i++) {
    const z = drawUserZ(usersRng, population);
    const v = userVector(population, z);
    vectors.push(v);
    const split = i < options.users ? "seen" : "new";
    planted.push({ user: userId(i, total), split, z: Array.from(z), v: Array.from(v) });
  }

  const seenRng = new Sfc32Random(seed, STREAM.seenPairs);
  const train = new SplitCollector(population, seenRng);
  const test = new SplitCollector(population, seenRng);
  for (let i = 0; i < options.users; i++) {
    train.add(planted[i]!.user, vectors[i]!, options.pairsPerUser);
    test.add(planted[i]!.user, vectors[i]!, options.testPairsPerUser);
  }
  const fresh = new SplitCollector(population, new Sfc32Random(seed, STREAM.newPairs));
  for (let i = options.users; i < total; i++) {
    fresh.add(planted[i]!.user, vectors[i]!, options.newUserPairs);
  }

  const U: number[][] = [];
  for (let j = 0; j < ATTRIBUTE_NAMES.length; j++) {
    U.push(Array.from(population.U.subarray(j * rank, (j + 1) * rank)));
  }
  return {
    train: train.rows,
    test: test.rows,
    newUsers: fresh.rows,
    bayes: {
      accuracy: {
        train: train.bayesAccuracy,
        test: test.bayesAccuracy,
        newUsers: fresh.bayesAccuracy,
      },
      globalModelAccuracy: {
        train: train.globalModelAccuracy,
        test: test.globalModelAccuracy,
        newUsers: fresh.globalModelAccuracy,
      },
    },
    planted: {
      attributeNames: [...ATTRIBUTE_NAMES],
      rank,
      disagreement: population.disagreement,
      scale: population.scale,
      v0: Array.from(population.v0),
      U,
      users: planted,
    },
  };
}
