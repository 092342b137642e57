import type { FeaturePairInput, PairBlock } from "./pair-data.js";

export function assertShape(d: number, m: number): void {
  for (const [name, value] of [
    ["d", d],
    ["m", m],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new TypeError(`${name}: expected a positive integer, got ${String(value)}`);
    }
  }
}

/** Δ_j = Φ(chosen_j) − Φ(rejected_j) for every pair, in float64. */
export function deltaBlock(pairs: readonly FeaturePairInput[], d: number, m: number): PairBlock {
  assertShape(d, m);
  const q = d * m;
  const deltas = new Float64Array(pairs.length * q);
  pairs.forEach((pair, j) => {
    for (const side of ["chosen", "rejected"] as const) {
      const v = pair[side];
      if (!(v instanceof Float64Array || v instanceof Float32Array) || v.length !== q) {
        throw new TypeError(
          `pairs[${j}].${side}: expected a Float64Array or Float32Array of length d·m = ${q}`,
        );
      }
    }
    const offset = j * q;
    for (let i = 0; i < q; i++) {
      const value = pair.chosen[i] - pair.rejected[i];
      if (!Number.isFinite(value)) {
        throw new TypeError(`pairs[${j}]: expected finite features, got ${String(value)} at ${i}`);
      }
      deltas[offset + i] = value;
    }
  });
  return { d, m, count: pairs.length, deltas };
}

/** The rows `indices` of `block`, in that order. */
export function selectPairs(block: PairBlock, indices: readonly number[]): PairBlock {
  const q = block.d * block.m;
  const deltas = new Float64Array(indices.length * q);
  indices.forEach((index, j) => {
    if (!Number.isSafeInteger(index) || index < 0 || index >= block.count) {
      throw new TypeError(
        `indices[${j}]: expected an integer in [0, ${block.count}), got ${index}`,
      );
    }
    deltas.set(block.deltas.subarray(index * q, (index + 1) * q), j * q);
  });
  return { d: block.d, m: block.m, count: indices.length, deltas };
}

/** All pairs of the blocks, concatenated in order. */
export function concatPairs(blocks: readonly PairBlock[]): PairBlock {
  if (blocks.length === 0) throw new TypeError("blocks: expected at least one block");
  const { d, m } = blocks[0];
  const q = d * m;
  let count = 0;
  for (const block of blocks) {
    if (block.d !== d || block.m !== m) {
      throw new TypeError(
        `blocks: expected every block to be ${d}×${m}, got ${block.d}×${block.m}`,
      );
    }
    count += block.count;
  }
  const deltas = new Float64Array(count * q);
  let offset = 0;
  for (const block of blocks) {
    deltas.set(block.deltas.subarray(0, block.count * q), offset);
    offset += block.count * q;
  }
  return { d, m, count, deltas };
}

export function assertPairBlock(block: PairBlock, d: number, m: number, name: string): void {
  if (block.d !== d || block.m !== m) {
    throw new TypeError(`${name}: expected ${d}×${m} features, got ${block.d}×${block.m}`);
  }
  if (!Number.isSafeInteger(block.count) || block.count < 0) {
    throw new TypeError(`${name}.count: expected a non-negative integer`);
  }
  if (!(block.deltas instanceof Float64Array) || block.deltas.length !== block.count * d * m) {
    throw new TypeError(`${name}.deltas: expected a Float64Array of length count·d·m`);
  }
}
