/**
 * Deterministic train/validation split: each user's held-out pairs are chosen by a Fisher–Yates
 * shuffle seeded from (seed, hash of the user id), so a user's split does not depend on the other
 * users or on their order.
 */
import { deriveSeed, SeededRandom } from "../../math/random.js";
import { assertPairBlock, assertShape, deltaBlock, selectPairs } from "./pair-blocks.js";
import type { PairBlock, SharedData, UserFeaturePairs, UserPairs } from "./pair-data.js";

export interface SplitOptions {
  /** Fraction of each user's pairs held out for validation (default 0.2). */
  validationFraction?: number;
  /** Default 0. */
  seed?: number;
}

export const DEFAULT_VALIDATION_FRACTION = 0.2;

/** Held-out count: round(fraction·n), keeping at least one training pair. */
export function validationCount(n: number, fraction: number): number {
  return Math.max(0, Math.min(n - 1, Math.round(fraction * n)));
}

export function splitUserPairs(
  user: string,
  block: PairBlock,
  options: SplitOptions = {},
): UserPairs {
  const { fraction, seed } = checkSplitOptions(options);
  const n = block.count;
  const order = Array.from({ length: n }, (_, i) => i);
  const random = new SeededRandom(deriveSeed(seed, hashString(user)));
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random.nextUnit() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const held = validationCount(n, fraction);
  const byIndex = (a: number, b: number) => a - b;
  return {
    user,
    train: selectPairs(block, order.slice(held).sort(byIndex)),
    validation: selectPairs(block, order.slice(0, held).sort(byIndex)),
  };
}

/** Feature pairs per user → feature differences split into train and validation. */
export function buildSharedData(
  users: readonly UserFeaturePairs[],
  d: number,
  m: number,
  options: SplitOptions = {},
): SharedData {
  assertShape(d, m);
  assertDistinctUsers(users.map((u) => u.user));
  return {
    d,
    m,
    users: users.map((u) => splitUserPairs(u.user, deltaBlock(u.pairs, d, m), options)),
  };
}

export function validateSharedData(data: SharedData): void {
  assertShape(data.d, data.m);
  if (!Array.isArray(data.users) || data.users.length === 0) {
    throw new TypeError("data.users: expected a non-empty array");
  }
  assertDistinctUsers(data.users.map((u) => u.user));
  data.users.forEach((u, i) => {
    assertPairBlock(u.train, data.d, data.m, `data.users[${i}].train`);
    assertPairBlock(u.validation, data.d, data.m, `data.users[${i}].validation`);
  });
}

function assertDistinctUsers(ids: readonly string[]): void {
  const seen = new Set<string>();
  for (const id of ids) {
    if (typeof id !== "string") throw new TypeError("user: expected a string id");
    if (seen.has(id)) throw new TypeError(`user: expected distinct ids, got ${id} twice`);
    seen.add(id);
  }
}

function checkSplitOptions(options: SplitOptions): { fraction: number; seed: number } {
  const fraction = options.validationFraction ?? DEFAULT_VALIDATION_FRACTION;
  const seed = options.seed ?? 0;
  if (!Number.isFinite(fraction) || fraction < 0 || fraction >= 1) {
    throw new TypeError(`validationFraction: expected a number in [0, 1), got ${String(fraction)}`);
  }
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff) {
    throw new TypeError(`seed: expected an integer in [0, 2^32 - 1], got ${String(seed)}`);
  }
  return { fraction, seed };
}

/** FNV-1a over UTF-16 code units. */
function hashString(text: string): number {
  let h = 0x811c_9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x0100_0193);
  }
  return h >>> 0;
}
