import { deltaBlock, type PairBlock, type UserFeaturePairs } from "../shared/index.js";

/** Each user's pairs as one block of feature differences. */
export function userBlocks(
  users: readonly UserFeaturePairs[],
  d: number,
  m: number,
): Map<string, PairBlock> {
  return new Map(users.map((u) => [u.user, deltaBlock(u.pairs, d, m)]));
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
}
