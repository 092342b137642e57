import type { PairBlock } from "./pair-data.js";

/** Several users' pairs in one contiguous array; user u owns rows userStart[u] .. userStart[u+1). */
export interface DeltaStack {
  readonly d: number;
  readonly m: number;
  /** Pairs in all. */
  readonly n: number;
  readonly users: number;
  readonly userStart: Int32Array;
  /** n × d·m row-major. */
  readonly deltas: Float64Array;
}

export function stackPairs(blocks: readonly PairBlock[], d: number, m: number): DeltaStack {
  const q = d * m;
  const userStart = new Int32Array(blocks.length + 1);
  blocks.forEach((block, u) => {
    userStart[u + 1] = userStart[u] + block.count;
  });
  const n = userStart[blocks.length];
  const deltas = new Float64Array(n * q);
  blocks.forEach((block, u) => {
    deltas.set(block.deltas.subarray(0, block.count * q), userStart[u] * q);
  });
  return { d, m, n, users: blocks.length, userStart, deltas };
}
