import type { UserFeaturePairs } from "./shared/index.js";

/** A dataset's comparisons with Φ of both sides, as `datasetFeatures` returns them. */
export interface FeatureRows {
  readonly rows: readonly { readonly user: string }[];
  readonly chosen: readonly Float32Array[];
  readonly rejected: readonly Float32Array[];
}

/** Comparisons grouped by user, users in order of first appearance, pairs in file order. */
export function groupByUser(dataset: FeatureRows): UserFeaturePairs[] {
  const users = new Map<string, { chosen: Float32Array; rejected: Float32Array }[]>();
  dataset.rows.forEach((row, j) => {
    let pairs = users.get(row.user);
    if (pairs === undefined) {
      pairs = [];
      users.set(row.user, pairs);
    }
    pairs.push({ chosen: dataset.chosen[j]!, rejected: dataset.rejected[j]! });
  });
  return [...users].map(([user, pairs]) => ({ user, pairs }));
}
