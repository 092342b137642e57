export const PHASES = [
  "raw",
  "unique",
  "shared",
  "openrlhf",
  "users10k",
  "matrix",
  "rss100k",
  "fit",
  "sequence",
  "queries",
] as const;
export type Phase = (typeof PHASES)[number];

/** Phases whose figures are ratios over raw onnxruntime, measured in the same rounds. */
export const OVER_RAW: readonly Phase[] = ["unique", "shared", "openrlhf"];

export interface BenchOptions {
  quick: boolean;
  json: boolean;
  phases: Phase[];
  /** rss100k: times each of the 100,000 users is scored (a plateau shows the growth is bounded). */
  rssPasses: number;
}

export interface Durations {
  /** Alternating rounds of raw / server measurements. */
  rounds: number;
  rawCalibrationMs: number;
  rawCalibrationPasses: 1 | 2;
  rawRoundMs: number;
  serverWarmupMs: number;
  /** Backbone-bound runs (unique, shared) last batchedMs, and go on until minBursts batches were answered (up to maxBatchedMs). */
  batchedMs: number;
  minBursts: number;
  maxBatchedMs: number;
  usersMs: number;
  /** matrix: timed 1,000-user requests on cached texts per round (after one untimed). */
  matrixRequests: number;
  /** matrix: one-user / 1,000-user pairs of never-seen-text requests per round (one-many, many-one, …). */
  matrixPairs: number;
  /** rss100k: idle time before a second RSS reading. */
  rssIdleMs: number;
  fitBudgetMs: number;
  fitEndToEndRuns: number;
  /** queries: timed requests once the candidates' features are cached. */
  queryRuns: number;
}

export const RAW_BATCHES = [1, 8, 32, 64] as const;

export function durations(quick: boolean): Durations {
  return quick
    ? {
        rounds: 2,
        rawCalibrationMs: 1000,
        rawCalibrationPasses: 1,
        rawRoundMs: 2000,
        serverWarmupMs: 1500,
        batchedMs: 3000,
        minBursts: 3,
        maxBatchedMs: 30_000,
        usersMs: 6000,
        matrixRequests: 5,
        matrixPairs: 2,
        rssIdleMs: 3000,
        fitBudgetMs: 400,
        fitEndToEndRuns: 1,
        queryRuns: 10,
      }
    : {
        rounds: 3,
        rawCalibrationMs: 1500,
        rawCalibrationPasses: 2,
        rawRoundMs: 3000,
        serverWarmupMs: 2000,
        batchedMs: 4000,
        minBursts: 3,
        maxBatchedMs: 40_000,
        usersMs: 8000,
        matrixRequests: 8,
        matrixPairs: 6,
        rssIdleMs: 5000,
        fitBudgetMs: 1500,
        fitEndToEndRuns: 3,
        queryRuns: 30,
      };
}

/**
 * `--only a,b` picks phases; without it every phase runs, except rss100k in a quick run.
 * unique, shared and openrlhf are ratios over raw, so they bring raw along.
 */
export function resolvePhases(only: string | undefined, quick: boolean): Phase[] {
  let chosen: Phase[];
  if (only === undefined) chosen = PHASES.filter((p) => !(quick && p === "rss100k"));
  else {
    const names = only
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    for (const name of names) {
      if (!(PHASES as readonly string[]).includes(name)) {
        throw new TypeError(
          `--only: expected names from ${PHASES.join(", ")}, got ${JSON.stringify(name)}`,
        );
      }
    }
    chosen = names as Phase[];
    if (OVER_RAW.some((p) => chosen.includes(p))) chosen.push("raw");
  }
  return PHASES.filter((p) => chosen.includes(p));
}
