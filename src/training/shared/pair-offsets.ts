import { dot } from "../../math/linalg.js";
import type { DeltaStack } from "./delta-stack.js";

/** out[j] = ⟨Θ0, Δ_j⟩ for every pair of the stack. */
export function baseOffsets(
  stack: DeltaStack,
  theta0: Float64Array,
  out: Float64Array,
): Float64Array {
  const q = stack.d * stack.m;
  const { deltas, n } = stack;
  for (let j = 0; j < n; j++) out[j] = dot(deltas, j * q, theta0, 0, q);
  return out;
}
