import { DEFAULT_L2 } from "./global-head.js";
import { INIT_MODES, type InitMode } from "./initial-factors.js";
import { assertCount, assertPositive } from "./ridge.js";
import type { RoundRecord, ShareMode, TrainSharedOptions } from "./shared-model.js";

export interface TrainSettings {
  share: ShareMode;
  init: InitMode;
  k: number;
  l2: number;
  l2Theta0: number;
  l2User: number;
  refitTheta0: boolean;
  fixedTheta0?: Float64Array;
  seed: number;
  maxRounds: number;
  patience: number;
  warmupIterations: number;
  userRidgeRetries: number;
  onProgress: ((record: RoundRecord) => void) | null;
}

export const DEFAULT_MAX_ROUNDS = 20;
export const DEFAULT_PATIENCE = 2;
export const DEFAULT_WARMUP_ITERATIONS = 2;
export const DEFAULT_USER_RIDGE_RETRIES = 3;
/** Personal B_i (d·k unknowns from one user's pairs) need a much stronger ridge than W_i. */
export const SHARE_A_USER_L2_FACTOR = 10;

export function resolveTrainSettings(options: TrainSharedOptions, d: number): TrainSettings {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("options: expected an object with at least { rank }");
  }
  const share = options.share ?? "B";
  if (share !== "A" && share !== "B") {
    throw new TypeError(`share: expected "B" or "A", got ${String(share)}`);
  }
  const init = options.init ?? "global";
  if (!INIT_MODES.includes(init)) {
    throw new TypeError(`init: expected one of ${INIT_MODES.join(", ")}, got ${String(init)}`);
  }
  const k = options.rank;
  assertCount(k, "rank", 1);
  if (k > d) throw new TypeError(`rank: expected at most d = ${d}, got ${k}`);
  const l2 = options.l2 ?? DEFAULT_L2;
  assertPositive(l2, "l2");
  const l2Theta0 = options.l2Theta0 ?? l2;
  assertPositive(l2Theta0, "l2Theta0");
  const l2User = options.l2User ?? (share === "B" ? l2 : SHARE_A_USER_L2_FACTOR * l2);
  assertPositive(l2User, "l2User");
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff) {
    throw new TypeError(`seed: expected an integer in [0, 2^32 - 1], got ${String(seed)}`);
  }
  const maxRounds = options.maxRounds ?? DEFAULT_MAX_ROUNDS;
  assertCount(maxRounds, "maxRounds", 1);
  const patience = options.patience ?? DEFAULT_PATIENCE;
  assertCount(patience, "patience", 1);
  const warmupIterations = options.warmupIterations ?? DEFAULT_WARMUP_ITERATIONS;
  assertCount(warmupIterations, "warmupIterations", 1);
  const userRidgeRetries = options.userRidgeRetries ?? DEFAULT_USER_RIDGE_RETRIES;
  if (!Number.isInteger(userRidgeRetries) || userRidgeRetries < 0) {
    throw new TypeError(
      `userRidgeRetries: expected a non-negative integer, got ${String(userRidgeRetries)}`,
    );
  }
  const onProgress = options.onProgress ?? null;
  if (onProgress !== null && typeof onProgress !== "function") {
    throw new TypeError("onProgress: expected a function");
  }
  return {
    share,
    init,
    k,
    l2,
    l2Theta0,
    l2User,
    refitTheta0: options.fixedTheta0 === undefined && (options.refitTheta0 ?? true),
    ...(options.fixedTheta0 === undefined ? {} : { fixedTheta0: fixedTheta0(options, d) }),
    seed,
    maxRounds,
    patience,
    warmupIterations,
    userRidgeRetries,
    onProgress,
  };
}

function fixedTheta0(options: TrainSharedOptions, d: number): Float64Array {
  const theta0 = options.fixedTheta0!;
  if (!(theta0 instanceof Float64Array) || theta0.length % d !== 0 || theta0.length === 0) {
    throw new TypeError(`fixedTheta0: expected a Float64Array of d×m values (d = ${d})`);
  }
  if ((options.share ?? "B") !== "B") {
    throw new TypeError("fixedTheta0: only share B keeps Θ0 fixed");
  }
  return theta0;
}
