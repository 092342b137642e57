export function assertPositive(value: number, name: string): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(`${name}: expected a finite positive number, got ${String(value)}`);
  }
}

export function assertCount(value: number, name: string, minimum: number): void {
  if (!Number.isSafeInteger(value) || value < minimum) {
    throw new TypeError(`${name}: expected an integer ≥ ${minimum}, got ${String(value)}`);
  }
}

/** Penalty vector for concatenated blocks: block b gets λ_b on each of its size_b unknowns. */
export function blockPenalty(
  blocks: readonly (readonly [size: number, lambda: number])[],
): Float64Array {
  let p = 0;
  for (const [size] of blocks) p += size;
  const penalty = new Float64Array(p);
  let offset = 0;
  for (const [size, lambda] of blocks) {
    penalty.fill(lambda, offset, offset + size);
    offset += size;
  }
  return penalty;
}
