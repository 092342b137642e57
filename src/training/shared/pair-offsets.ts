import type { DeltaStack } from "./delta-stack.js";

/** out[j] = ⟨Θ0, Δ_j⟩ for every pair of the stack. */
export function baseOffsets(
  stack: DeltaStack,
  theta0: Float64Array,
  out: Float64Array,
): Float64Array {
  const q = stack.d * stack.m;
  const { deltas, n } = stack;
  for (let j = 0; j < n; j++) {
    const row = j * q;
    let s = 0;
    for (let i = 0; i < q; i++) s += deltas[row + i] * theta0[i];
    out[j] = s;
  }
  return out;
}
