/**
 * Replays active onboarding on users whose true Bradley–Terry model is known: each round the
 * user is asked the pairs a strategy picks from their candidate pool (as the server's queries
 * route picks them, under the same belief), answers are drawn from σ(u_a − u_b), W is refitted on
 * every answer so far (the server's onboarding fit, append mode), and the fit is scored on the
 * user's test pairs by its expected accuracy Σ P_true(predicted winner wins) / pairs.
 */
import { sigmoid } from "../../math/logistic.js";
import { deriveSeed, SeededRandom } from "../../math/random.js";
import type { PairStats, PriorSpec } from "../logistic-fit.js";
import { fitWithEvidence } from "../prior-evidence.js";
import { posteriorBelief, priorBelief } from "./belief.js";
import {
  pairKey,
  type QueryBelief,
  type QueryPool,
  type QueryStrategy,
  selectQueries,
} from "./query-selection.js";

export interface ReplayUser {
  user: string;
  /** The candidates the user may be asked about. */
  pool: QueryPool;
  /** True utility of each pool text. */
  utilities: Float64Array;
  /** Test pairs: o + w·g is the model's log-odds that the first side wins, truth the true one. */
  test: { g: Float64Array; o: Float64Array; truth: Float64Array; n: number };
}

export interface ReplayOptions {
  /** The head's population prior (an isotropic N(0, I) without one). */
  prior: { mean: Float64Array; cov: Float64Array } | undefined;
  strategies: readonly QueryStrategy[];
  seeds: readonly number[];
  perRound: number;
  rounds: number;
}

export interface ReplayCurve {
  strategy: QueryStrategy;
  /** Mean expected test accuracy after 0, perRound, 2·perRound, … questions. */
  accuracy: number[];
}

export interface ReplayResult {
  questions: number[];
  curves: ReplayCurve[];
  /** Expected accuracy of the true model on the same test pairs. */
  bayes: number;
  users: number;
  seeds: number;
  seconds: number;
}

export function replayOnboarding(
  users: readonly ReplayUser[],
  options: ReplayOptions,
): ReplayResult {
  const started = performance.now();
  const { perRound, rounds } = options;
  for (const [name, value] of [
    ["perRound", perRound],
    ["rounds", rounds],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new TypeError(`${name}: expected a positive integer, got ${String(value)}`);
    }
  }
  if (users.length === 0 || options.seeds.length === 0) {
    throw new TypeError("expected at least one user and one seed");
  }
  const questions = Array.from({ length: rounds + 1 }, (_, r) => r * perRound);
  const curves = options.strategies.map((strategy) => {
    const sums = new Float64Array(rounds + 1);
    users.forEach((user, index) => {
      for (const seed of options.seeds) {
        const accuracy = replayUser(user, strategy, deriveSeed(seed, index), options);
        for (let r = 0; r <= rounds; r++) sums[r] += accuracy[r]!;
      }
    });
    const runs = users.length * options.seeds.length;
    return { strategy, accuracy: Array.from(sums, (s) => s / runs) };
  });
  let bayes = 0;
  for (const user of users) {
    let sum = 0;
    for (let j = 0; j < user.test.n; j++) {
      const p = sigmoid(user.test.truth[j]!);
      sum += Math.max(p, 1 - p);
    }
    bayes += sum / user.test.n;
  }
  return {
    questions,
    curves,
    bayes: bayes / users.length,
    users: users.length,
    seeds: options.seeds.length,
    seconds: (performance.now() - started) / 1000,
  };
}

/** Expected test accuracy after each round (index 0: before any question). */
export function replayUser(
  user: ReplayUser,
  strategy: QueryStrategy,
  seed: number,
  options: Pick<ReplayOptions, "prior" | "perRound" | "rounds">,
): number[] {
  const { pool } = user;
  const { p } = pool;
  const spec: PriorSpec =
    options.prior === undefined
      ? { kind: "isotropic" }
      : { kind: "population", mean: options.prior.mean, cov: options.prior.cov };
  // The same answers' random stream for every strategy of one (user, seed).
  const answers = new SeededRandom(seed);
  let belief: QueryBelief = priorBelief(options.prior, p, 1);
  const asked = new Set<string>();
  const g: number[] = [];
  const o: number[] = [];
  const accuracy = [expectedAccuracy(user, new Float64Array(p))];
  for (let round = 0; round < options.rounds; round++) {
    const picks = selectQueries(pool, belief, {
      n: options.perRound,
      strategy,
      exclude: asked,
      seed: deriveSeed(seed, round + 1),
    });
    for (const pick of picks) {
      asked.add(pairKey(pick.candidate, pick.a, pick.b));
      const start = pool.offsets[pick.candidate]!;
      const a = start + pick.a;
      const b = start + pick.b;
      const aWins = answers.nextUnit() < sigmoid(user.utilities[a]! - user.utilities[b]!);
      const [chosen, rejected] = aWins ? [a, b] : [b, a];
      o.push(pool.base[chosen]! - pool.base[rejected]!);
      for (let i = 0; i < p; i++) g.push(pool.proj[chosen * p + i]! - pool.proj[rejected * p + i]!);
    }
    const stats: PairStats = {
      g: Float64Array.from(g),
      o: Float64Array.from(o),
      n: o.length,
      p,
    };
    const { fit } = fitWithEvidence(stats, spec);
    belief = posteriorBelief(fit.w, fit.cholesky, p);
    accuracy.push(expectedAccuracy(user, fit.w));
  }
  return accuracy;
}

function expectedAccuracy(user: ReplayUser, w: Float64Array): number {
  const { test } = user;
  const p = w.length;
  let sum = 0;
  for (let j = 0; j < test.n; j++) {
    let logOdds = test.o[j]!;
    for (let i = 0; i < p; i++) logOdds += w[i]! * test.g[j * p + i]!;
    const truth = sigmoid(test.truth[j]!);
    sum += logOdds > 0 ? truth : logOdds < 0 ? 1 - truth : 0.5;
  }
  return sum / test.n;
}
