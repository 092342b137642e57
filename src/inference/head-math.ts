/**
 * The per-user part of the reward, done in TypeScript because it is only k·m multiply-adds:
 * r_i(x) = base(x) + ⟨W_i, P(x)⟩.
 */
export function personalReward(
  base: number,
  proj: Float32Array,
  W: Float32Array | undefined,
): number {
  if (W === undefined) return base;
  if (W.length !== proj.length) {
    throw new TypeError(`Expected an adapter of ${proj.length} values (k·m), got ${W.length}`);
  }
  let sum = base;
  for (let i = 0; i < W.length; i++) sum += W[i]! * proj[i]!;
  return sum;
}

export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/** softmax with the maximum subtracted, so large rewards do not overflow. */
export function softmax(values: readonly number[]): number[] {
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) max = Math.max(max, v);
  const exps = values.map((v) => Math.exp(v - max));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / total);
}
