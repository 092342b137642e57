/**
 * Onboarding curve: a user unseen in training gives n of their pairs; W is fitted with B frozen by
 * the server's own fitter (population prior of the head, τ by cross-validation) and scored on
 * pairs none of the n come from. Every n of one draw is scored on the same held-out pairs.
 */
import { inverseQuadraticForm } from "../../math/linalg.js";
import { sigmoid } from "../../math/logistic.js";
import { deriveSeed, SeededRandom } from "../../math/random.js";
import { fitWithCrossValidation } from "../cross-validation.js";
import type { FitResult, PairStats } from "../logistic-fit.js";
import { fitWithEvidence } from "../prior-evidence.js";
import { servedPairStats } from "../served-pair-stats.js";
import {
  accuracy,
  type PairBlock,
  type ShareBModel,
  selectPairs,
  trainLocal,
} from "../shared/index.js";
import { BETA_95, CalibrationTally } from "./calibration.js";
import { mean } from "./user-blocks.js";

export const DEFAULT_CURVE_NS = [2, 4, 8, 16, 32, 64] as const;
/** Pairs each draw keeps out of every fit, at the least. */
export const MIN_HELD_OUT = 8;

export interface CurveOptions {
  ns: readonly number[];
  draws: number;
  seed: number;
  /** Ridge of the local baseline. */
  l2: number;
  /** The population prior's strength; chosen by cross-validation on each draw's pairs when absent. */
  tau?: number;
  /** The τ values cross-validation chooses from (the onboarding fitter's grid when absent). */
  tauGrid?: readonly number[];
  /** How τ is chosen when not given: the server's rule (evidence, the default) or cross-validation. */
  strength?: "evidence" | "cross-validation";
  /** Each user's true log-odds of their pairs, in block order (synthetic data), for coverage. */
  truth?: ReadonlyMap<string, Float64Array>;
  /** β of the pessimistic bound whose coverage is measured (default BETA_95). */
  beta?: number;
}

/** Of the P-ShareLoRA fits, pooled over users and draws at each n. */
export interface CurveCalibration {
  beta: number;
  ece: (number | null)[];
  /** null where the true log-odds are unknown. */
  coverage: (number | null)[];
  /** The β whose bound would have held for 95% of the checks; null where the truth is unknown. */
  beta95: (number | null)[];
}

export interface CurveMethod {
  method: string;
  /** Mean held-out accuracy at each n (null where no user has n + MIN_HELD_OUT pairs). */
  accuracy: (number | null)[];
}

export interface CurveResult {
  ns: number[];
  users: number;
  draws: number;
  methods: CurveMethod[];
  calibration: CurveCalibration;
  seconds: number;
}

export function newUserCurve(
  blocks: ReadonlyMap<string, PairBlock>,
  shared: ShareBModel,
  options: CurveOptions,
): CurveResult {
  const started = performance.now();
  const ns = [...options.ns].sort((a, b) => a - b);
  const sums = {
    shared: ns.map(() => [] as number[]),
    local: ns.map(() => [] as number[]),
    global: ns.map(() => [] as number[]),
  };
  const family = {
    kind: "population" as const,
    mean: shared.prior.mean,
    cov: shared.prior.cov,
    ...(options.tau === undefined ? {} : { tau: options.tau }),
  };
  const beta = options.beta ?? BETA_95;
  const tallies = ns.map(() => new CalibrationTally());
  const fitUser = (stats: PairStats): FitResult =>
    options.strength === "cross-validation" || options.tauGrid !== undefined
      ? fitWithCrossValidation(
          stats,
          family,
          options.tauGrid === undefined ? {} : { grid: options.tauGrid },
        ).fit
      : fitWithEvidence(stats, family).fit;
  let userIndex = 0;
  for (const [user, block] of blocks) {
    userIndex++;
    const truth = options.truth?.get(user);
    const usable = ns.filter((n) => n + MIN_HELD_OUT <= block.count);
    if (usable.length === 0) continue;
    const maxN = usable[usable.length - 1]!;
    const stats = servedPairStats(shared, block);
    for (let draw = 0; draw < options.draws; draw++) {
      const order = shuffled(block.count, deriveSeed(options.seed, userIndex * 1009 + draw));
      const held = order.slice(maxN);
      const heldBlock = selectPairs(block, held);
      const heldStats = rows(stats, held);
      for (const [i, n] of ns.entries()) {
        if (n > maxN) continue;
        const train = order.slice(0, n);
        const fit = fitUser(rows(stats, train));
        sums.shared[i]!.push(statsAccuracy(heldStats, fit.w));
        tally(
          tallies[i]!,
          heldStats,
          fit,
          truth === undefined ? undefined : held.map((j) => truth[j]!),
          beta,
        );
        sums.local[i]!.push(accuracy(trainLocal(selectPairs(block, train), options.l2), heldBlock));
        sums.global[i]!.push(statsAccuracy(heldStats, null));
      }
    }
  }
  const summarize = (values: number[][]) => values.map((v) => (v.length === 0 ? null : mean(v)));
  return {
    ns,
    users: blocks.size,
    draws: options.draws,
    methods: [
      { method: "P-ShareLoRA (B frozen, population prior)", accuracy: summarize(sums.shared) },
      { method: "local (ridge)", accuracy: summarize(sums.local) },
      { method: "global", accuracy: summarize(sums.global) },
    ],
    calibration: {
      beta,
      ece: tallies.map((t) => t.ece),
      coverage: tallies.map((t) => t.coverage),
      beta95: tallies.map((t) => t.betaFor(0.95)),
    },
    seconds: (performance.now() - started) / 1000,
  };
}

/** Held-out pairs are listed chosen first, so the first side won each of them. */
function tally(
  into: CalibrationTally,
  held: PairStats,
  fit: FitResult,
  truth: readonly number[] | undefined,
  beta: number,
): void {
  const { p } = held;
  const scratch = new Float64Array(p);
  for (let j = 0; j < held.n; j++) {
    const g = held.g.subarray(j * p, (j + 1) * p);
    let logOdds = held.o[j]!;
    for (let i = 0; i < p; i++) logOdds += fit.w[i]! * g[i]!;
    const sigma = Math.sqrt(inverseQuadraticForm(fit.cholesky, p, g, scratch));
    into.add(
      sigmoid(logOdds),
      true,
      truth === undefined ? undefined : { trueLogOdds: truth[j]!, logOdds, sigma, beta },
    );
  }
}

function shuffled(n: number, seed: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  const random = new SeededRandom(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random.nextUnit() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

function rows(stats: PairStats, indices: readonly number[]): PairStats {
  const { p } = stats;
  const g = new Float64Array(indices.length * p);
  const o = new Float64Array(indices.length);
  indices.forEach((j, row) => {
    g.set(stats.g.subarray(j * p, (j + 1) * p), row * p);
    o[row] = stats.o[j]!;
  });
  return { g, o, n: indices.length, p };
}

/** Fraction of pairs with o + w·g > 0 (ties ½); w = null is the global reward. */
function statsAccuracy(stats: PairStats, w: Float64Array | null): number {
  let correct = 0;
  for (let j = 0; j < stats.n; j++) {
    let z = stats.o[j]!;
    if (w !== null) for (let i = 0; i < stats.p; i++) z += w[i]! * stats.g[j * stats.p + i]!;
    correct += z > 0 ? 1 : z === 0 ? 0.5 : 0;
  }
  return stats.n === 0 ? 0 : correct / stats.n;
}
