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
