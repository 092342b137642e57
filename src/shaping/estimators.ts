/** Per-token penalty estimators of the divergence between the policy π and the reference π_ref. */
export type Estimator = "kl" | "abs" | "k2" | "k3" | "js" | "none";

export const ESTIMATORS: readonly Estimator[] = ["kl", "abs", "k2", "k3", "js", "none"];

/**
 * k3 = ρ − 1 − log ρ with log ρ = −l needs exp(−l), which overflows float64 once −l > ~709.78.
 * k3 is therefore exact for l ≥ −K3_MAX_LOG_RATIO and saturates at k3(−K3_MAX_LOG_RATIO) ≈ 1.01e304
 * for every l below it: finite, non-negative, and continuous (constant) across the cap, and 8000×
 * below Number.MAX_VALUE so that β·penalty and sums over tokens keep headroom. No other estimator
 * is capped.
 */
export const K3_MAX_LOG_RATIO = 700;

// 1/n! for n = 2..14: the Taylor series of e^x − 1 − x, used where expm1(x) − x cancels.
const K3_SERIES = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14].map((n) => {
  let f = 1;
  for (let i = 2; i <= n; i++) f *= i;
  return 1 / f;
});
const K3_SERIES_BELOW = 0.1;

function k3(l: number): number {
  const x = -Math.max(l, -K3_MAX_LOG_RATIO);
  if (Math.abs(x) >= K3_SERIES_BELOW) return Math.expm1(x) - x;
  let acc = 0;
  for (let i = K3_SERIES.length - 1; i >= 0; i--) acc = acc * x + K3_SERIES[i]!;
  return acc * x * x;
}

/** ½[max(0, logπ − log m) + max(0, logπ_ref − log m)] with m = ½(π + π_ref), all in log space. */
function js(logp: number, logq: number): number {
  const hi = Math.max(logp, logq);
  // log m = hi + c with c = log((1 + e^{lo − hi}) / 2), exactly 0 when π = π_ref.
  const c = Math.log1p(Math.expm1(Math.min(logp, logq) - hi) / 2);
  // (logπ − hi) − c is logπ − log m reassociated so that large |hi| costs no precision.
  return 0.5 * (Math.max(0, logp - hi - c) + Math.max(0, logq - hi - c));
}

/** The penalty of one token given logπ and logπ_ref (finite, ≤ 0). */
export function tokenPenalty(estimator: Estimator, logp: number, logq: number): number {
  const l = logp - logq;
  switch (estimator) {
    case "kl":
      return l;
    case "abs":
      return Math.abs(l);
    case "k2":
      return 0.5 * l * l;
    case "k3":
      return k3(l);
    case "js":
      return js(logp, logq);
    case "none":
      return 0;
  }
}

export function assertEstimator(value: unknown): asserts value is Estimator {
  if (!ESTIMATORS.includes(value as Estimator)) {
    throw new TypeError(
      `expected estimator to be one of ${ESTIMATORS.join(", ")}, got ${String(value)}`,
    );
  }
}
