import { fetchMetrics, metricValue } from "../metrics.js";
import type { Target } from "../target.js";
import type { Check } from "../thresholds.js";

/** At least this share of adapter lookups must have gone to the store for the cache to count as cold. */
export const MIN_MISS_RATIO = 0.9;

/** From the server's adapter-cache counters on /metrics; skipped when it has none. */
export async function checkColdCache(target: Target): Promise<Check> {
  const name = "adapter cache stayed cold";
  const text = await fetchMetrics(target);
  const hits = text === undefined ? undefined : metricValue(text, "adapter_cache_hits_total");
  const misses = text === undefined ? undefined : metricValue(text, "adapter_cache_misses_total");
  if (hits === undefined || misses === undefined) {
    return { name, status: "skip", detail: "no adapter_cache_{hits,misses}_total on /metrics" };
  }
  const ratio = misses / Math.max(1, hits + misses);
  return {
    name,
    status: ratio >= MIN_MISS_RATIO ? "pass" : "fail",
    detail: `${misses} misses, ${hits} hits: miss ratio ${ratio.toFixed(3)} (≥ ${MIN_MISS_RATIO} needed)`,
  };
}
