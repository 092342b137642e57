import { FeatureCache } from "../src/inference/feature-cache.js";
import { mib } from "./stats.js";
import type { BenchText } from "./texts.js";

export const BUDGET_SLACK_MIB = 100;

/** Bytes the server's feature cache accounts for these texts, by its own size calculation. */
export function featureCacheBytes(
  texts: readonly BenchText[],
  head: { hash: string; k: number; m: number },
): number {
  const cache = new FeatureCache(2 ** 40, head.hash);
  for (const t of texts) {
    cache.set(cache.key(t.prompt, t.response), {
      base: 0,
      proj: new Float32Array(head.k * head.m),
      truncated: false,
      tokens: 0,
    });
  }
  return cache.bytes;
}

/**
 * model + caches + slack: model is the server's RSS once ready, before any request (backbone,
 * onnxruntime sessions, Node itself); caches are the feature cache in use plus the adapter cache.
 */
export function rssBudgetMib(
  rssStartBytes: number,
  featureBytes: number,
  adapterCacheBytes: number,
): number {
  return mib(rssStartBytes) + mib(featureBytes) + mib(adapterCacheBytes) + BUDGET_SLACK_MIB;
}
