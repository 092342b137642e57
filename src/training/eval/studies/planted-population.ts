/**
 * The studies' data: preferences planted on features (generateFeatureSynth, no backbone), each
 * training user's pairs split into training, validation (the trainer's own split) and held-out
 * test pairs, plus users unseen in training for the onboarding figures.
 */
import { symmetricEigen } from "../../../math/symmetric-eigen.js";
import {
  buildSharedData,
  deltaBlock,
  type PairBlock,
  type SharedData,
} from "../../shared/index.js";
import { generateFeatureSynth } from "../../synth/index.js";

export interface PopulationSpec {
  d: number;
  m: number;
  /** Planted rank r. */
  r: number;
  users: number;
  /** Per training user: training + validation pairs (the trainer holds out 20% of them). */
  pairs: number;
  /** Per training user, held out of every fit. */
  testPairs: number;
  /** Users absent from training (each with newUserPairs pairs); 0 for none. */
  newUsers: number;
  newUserPairs: number;
  /** ‖B*·W_i*‖ / ‖Θ0*‖ in expectation: how much users disagree with the shared preference. */
  disagreement: number;
  /** Ratio of the largest to the smallest planted direction's scale (1: a flat spectrum). */
  spread: number;
  seed: number;
}

export interface PlantedPopulation {
  data: SharedData;
  test: Map<string, PairBlock>;
  newUsers: Map<string, PairBlock>;
  /** σ_max / σ_min of the planted user matrix [W_1* … W_U*] (r × U·m). */
  condition: number;
  /** Its squared singular values, descending. */
  spectrum: number[];
  /** Expected accuracy of the planted model on the training users' pairs. */
  bayes: number;
}

/** ‖Θ0*‖_F of every study population. */
export const GLOBAL_NORM = 2;

export function plantedPopulation(spec: PopulationSpec): PlantedPopulation {
  const { d, m, r } = spec;
  const spectrum =
    spec.spread === 1 || r === 1
      ? undefined
      : Array.from({ length: r }, (_, a) => spec.spread ** (-a / (r - 1)));
  const train = generateFeatureSynth({
    d,
    m,
    k: r,
    users: spec.users,
    pairsPerUser: spec.pairs + spec.testPairs,
    seed: spec.seed,
    globalNorm: GLOBAL_NORM,
    userNorm: GLOBAL_NORM * spec.disagreement,
    ...(spectrum ? { spectrum } : {}),
  });
  const users = train.users.map((u) => ({ user: u.user, pairs: u.pairs.slice(0, spec.pairs) }));
  const data = buildSharedData(users, d, m, { seed: spec.seed });
  const test = new Map(
    train.users.map((u) => [u.user, deltaBlock(u.pairs.slice(spec.pairs), d, m)] as const),
  );
  const newUsers = new Map<string, PairBlock>();
  if (spec.newUsers > 0) {
    // The same Θ0* and B* (same seed), other users: generate more and keep those past the training ones.
    const all = generateFeatureSynth({
      d,
      m,
      k: r,
      users: spec.users + spec.newUsers,
      pairsPerUser: spec.newUserPairs,
      seed: spec.seed,
      globalNorm: GLOBAL_NORM,
      userNorm: GLOBAL_NORM * spec.disagreement,
      ...(spectrum ? { spectrum } : {}),
    });
    for (const u of all.users.slice(spec.users)) {
      newUsers.set(`new-${u.user}`, deltaBlock(u.pairs, d, m));
    }
  }
  const values = userMatrixSpectrum(
    train.users.map((u) => u.W),
    r,
    m,
  );
  const condition = Math.sqrt(values[0]! / Math.max(values[r - 1]!, 1e-300));
  return { data, test, newUsers, condition, spectrum: values, bayes: train.bayesAccuracy };
}

/** Eigenvalues of Σ_i W_i·W_iᵀ (r×r), descending: the squared singular values of [W_1 … W_U]. */
function userMatrixSpectrum(W: readonly Float64Array[], r: number, m: number): number[] {
  const gram = new Float64Array(r * r);
  for (const w of W) {
    for (let a = 0; a < r; a++) {
      for (let b = 0; b < r; b++) {
        let s = 0;
        for (let c = 0; c < m; c++) s += w[a * m + c]! * w[b * m + c]!;
        gram[a * r + b] += s;
      }
    }
  }
  return Array.from(symmetricEigen(gram, r).values);
}
