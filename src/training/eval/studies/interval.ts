/**
 * Mean with a 95% confidence interval over seeds: mean ± t(0.975, n − 1)·s/√n, Student's t because
 * a study has few seeds (5 by default), where the normal quantile 1.96 would understate the width.
 */

/** t(0.975, df) for df = 1 … 30; beyond 30 the normal quantile is within 2%. */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145,
  2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048,
  2.045, 2.042,
];

export function tQuantile975(df: number): number {
  if (!Number.isInteger(df) || df < 1)
    throw new TypeError(`df: expected an integer ≥ 1, got ${df}`);
  return df <= T975.length ? T975[df - 1]! : 1.96;
}

export interface Interval {
  mean: number;
  /** Half-width of the 95% interval. */
  half: number;
  low: number;
  high: number;
  n: number;
}

export function meanInterval(values: readonly number[]): Interval {
  const n = values.length;
  if (n < 2) throw new TypeError(`values: expected at least 2 seeds for an interval, got ${n}`);
  const mean = values.reduce((s, v) => s + v, 0) / n;
  const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1);
  const half = tQuantile975(n - 1) * Math.sqrt(variance / n);
  return { mean, half, low: mean - half, high: mean + half, n };
}

/** "78.4 ± 1.2" (percentage points) for fractions. */
export function formatPercent(interval: Interval): string {
  return `${(100 * interval.mean).toFixed(1)} ± ${(100 * interval.half).toFixed(1)}`;
}

export function formatNumber(interval: Interval, digits = 2): string {
  return `${interval.mean.toFixed(digits)} ± ${interval.half.toFixed(digits)}`;
}
