import type { Head } from "../model/head-file.js";
import type { PairStats } from "./logistic-fit.js";
import type { PairBlock } from "./shared/index.js";

/**
 * The statistics the server keeps for a user's pairs under `head`: row j of g is
 * vec(Bᵀ·Δ_j) (k×m row-major, = P(chosen) − P(rejected)) and o_j = ⟨Θ0, Δ_j⟩
 * (= base(chosen) − base(rejected), b0 cancelling), with the head's float32 weights.
 */
export function servedPairStats(
  head: Pick<Head, "d" | "m" | "k"> & { theta0: ArrayLike<number>; B: ArrayLike<number> },
  pairs: PairBlock,
): PairStats {
  const { d, m, k, theta0, B } = head;
  if (pairs.d !== d || pairs.m !== m) {
    throw new TypeError(`pairs: expected d×m = ${d}×${m} features, got ${pairs.d}×${pairs.m}`);
  }
  const q = d * m;
  const p = k * m;
  const n = pairs.count;
  const g = new Float64Array(n * p);
  const o = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    const row = j * q;
    const out = j * p;
    let base = 0;
    for (let i = 0; i < d; i++) {
      const x = row + i * m;
      for (let c = 0; c < m; c++) base += theta0[i * m + c]! * pairs.deltas[x + c]!;
      for (let a = 0; a < k; a++) {
        const b = B[i * k + a]!;
        if (b === 0) continue;
        for (let c = 0; c < m; c++) g[out + a * m + c] += b * pairs.deltas[x + c]!;
      }
    }
    o[j] = base;
  }
  return { g, o, n, p };
}
