export function median(values: readonly number[]): number {
  if (values.length === 0) throw new TypeError("median: expected at least one value");
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Ratio of medians, so a noisy round on either side moves the result less than a mean would. */
export function ratioOfMedians(
  numerator: readonly number[],
  denominator: readonly number[],
): number {
  return median(numerator) / median(denominator);
}

export function round(value: number, digits = 3): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

export function mib(bytes: number): number {
  return bytes / (1024 * 1024);
}
