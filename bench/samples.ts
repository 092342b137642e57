import type { LoadResult } from "./load.js";
import { metricDelta } from "./prometheus.js";
import type { ChildServer } from "./server.js";
import { round } from "./stats.js";

export const COUNTERS = [
  "sharelora_batch_size_sum",
  "sharelora_batch_size_count",
  "sharelora_adapter_cache_misses_total",
  "sharelora_adapter_cache_hits_total",
  "sharelora_backbone_inference_duration_seconds_sum",
] as const;
export type Counter = (typeof COUNTERS)[number];

/** One load run, with what the server's own counters say happened during it. */
export interface Sample {
  load: LoadResult;
  /** Index in the raw runs of the one right before this run (the next one follows it). */
  rawBefore: number;
  /** Counter changes over the run (null when the server has no /metrics). */
  counters: Record<Counter, number | null>;
}

export async function sampled(
  server: ChildServer,
  rawBefore: number,
  run: () => Promise<LoadResult>,
): Promise<Sample> {
  const before = await server.metrics();
  const load = await run();
  const after = await server.metrics();
  const counters = Object.fromEntries(
    COUNTERS.map((name) => [name, metricDelta(before, after, name)]),
  ) as Record<Counter, number | null>;
  return { load, rawBefore, counters };
}

export function rates(samples: readonly Sample[]): number[] {
  return samples.map((s) => round(s.load.unitsPerS, 2));
}

export function windows(samples: readonly Sample[]): string[] {
  return samples.map((s) => `${s.load.window} ${round(s.load.seconds, 1)} s`);
}

export function total(samples: readonly Sample[], counter: Counter): number | null {
  let sum = 0;
  for (const s of samples) {
    const value = s.counters[counter];
    if (value === null) return null;
    sum += value;
  }
  return sum;
}

export function perRequest(samples: readonly Sample[], counter: Counter): number | null {
  const count = total(samples, counter);
  const requests = samples.reduce((n, s) => n + s.load.requests, 0);
  return count === null || requests === 0 ? null : round(count / requests, 3);
}

/** Texts per second while the backbone ran, by the server's own clock (inference only). */
export function inferenceRate(samples: readonly Sample[]): number | null {
  const texts = total(samples, "sharelora_batch_size_sum");
  const seconds = total(samples, "sharelora_backbone_inference_duration_seconds_sum");
  return texts === null || !seconds ? null : round(texts / seconds, 2);
}

export function meanBatch(samples: readonly Sample[]): number | null {
  const sum = total(samples, "sharelora_batch_size_sum");
  const count = total(samples, "sharelora_batch_size_count");
  return sum === null || !count ? null : round(sum / count, 1);
}

/** Each run over the mean of the raw runs right before and after it. */
export function pairedRatios(samples: readonly Sample[], raw: readonly number[]): number[] {
  const out: number[] = [];
  for (const s of samples) {
    const before = raw[s.rawBefore];
    const after = raw[s.rawBefore + 1];
    if (before !== undefined && after !== undefined) {
      out.push(round(s.load.unitsPerS / ((before + after) / 2), 3));
    }
  }
  return out;
}
