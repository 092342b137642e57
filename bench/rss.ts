import { benchUserId, ensureTemplateFixture, type HeadShape } from "./adapters.js";
import { featureCacheBytes, rssBudgetMib } from "./memory-budget.js";
import type { Figures } from "./result.js";
import { cycling, usersLoad, warmFeatures } from "./scenarios.js";
import { ChildServer } from "./server.js";
import { mib, round } from "./stats.js";
import { benchTexts } from "./texts.js";

export const RSS_USERS = 100_000;
export const RSS_ADAPTER_CACHE_BYTES = 16 * 1024 * 1024;
const RSS_TEXTS = 64;
const RSS_CONCURRENCY = 32;
export const TIMELINE_INTERVAL_MS = 5000;

export interface RssOutcome {
  provider: string;
  /** Once ready, before any request. */
  rssReadyMib: number;
  /** Once the texts are in the feature cache: the baseline of the budget. */
  rssStartMib: number;
  rssEndMib: number;
  rssPeakMib: number | null;
  /** After idleMs without requests (V8 may give memory back when idle). */
  rssAfterIdleMib: number;
  /** Where the memory is, by the server's Node metrics (MiB), when it serves them. */
  nodeMemoryStart: NodeMemory | null;
  nodeMemoryEnd: NodeMemory | null;
  /** RSS every TIMELINE_INTERVAL_MS while the users are scored. */
  timelineMib: number[];
  budgetMib: number;
  featureCacheMib: number;
  /** "server": its /metrics gauge; "computed": FeatureCache's own size calculation on the texts. */
  featureCacheSource: "server" | "computed";
  adapterCacheMib: number | null;
  scoresPerS: number;
  requests: number;
  fixture: { reused: boolean; seconds: number };
  startSeconds: number;
}

export interface NodeMemory {
  heap_total_mib: number;
  heap_used_mib: number;
  /** Memory outside the V8 heap that V8 knows of: ArrayBuffers (typed arrays), Buffers. */
  external_mib: number;
}

function nodeMemory(metrics: Map<string, number> | undefined): NodeMemory | null {
  const get = (name: string) => metrics?.get(`sharelora_nodejs_${name}`);
  const total = get("heap_size_total_bytes");
  const used = get("heap_size_used_bytes");
  const external = get("external_memory_bytes");
  if (total === undefined || used === undefined || external === undefined) return null;
  const r = (bytes: number) => Math.round(mib(bytes) * 10) / 10;
  return { heap_total_mib: r(total), heap_used_mib: r(used), external_mib: r(external) };
}

/**
 * 100k adapters on disk, a 16 MiB adapter cache, one score request per user for every user: the
 * server's RSS at the end against model + caches + slack.
 */
export async function measureRss100k(
  root: string,
  head: HeadShape,
  idleMs: number,
  passes: number,
  log: (message: string) => void,
): Promise<RssOutcome> {
  log(`writing or reusing ${RSS_USERS} adapters under ${root}`);
  const fixture = await ensureTemplateFixture(root, RSS_USERS, head);
  log(
    `adapters ready (${fixture.reused ? "reused" : `written in ${fixture.seconds.toFixed(1)} s`})`,
  );
  const t0 = performance.now();
  const server = await ChildServer.start(
    { adapters: root, device: "cpu", adapterCacheBytes: RSS_ADAPTER_CACHE_BYTES },
    RSS_CONCURRENCY,
  );
  try {
    const startSeconds = (performance.now() - t0) / 1000;
    const { provider } = await server.info();
    const ready = await server.memory();
    const texts = benchTexts("r", 0, RSS_TEXTS);
    // The backbone's working memory (onnxruntime's arena for these batches) is the model's, so the
    // baseline is taken once the model has run them.
    await warmFeatures(server.client, texts);
    const start = await server.memory();
    const startHeap = nodeMemory(await server.metrics());
    log(
      `scoring for each of ${RSS_USERS} users${passes > 1 ? ` ${passes} times` : ""} (RSS at start ${mib(start.rssBytes).toFixed(0)} MiB)`,
    );
    const timeline: number[] = [];
    const sampler = setInterval(() => {
      void server.memory().then((m) => timeline.push(Math.round(mib(m.rssBytes))));
    }, TIMELINE_INTERVAL_MS);
    let load: Awaited<ReturnType<typeof usersLoad>>;
    try {
      load = await usersLoad(server.client, (i) => benchUserId(i % RSS_USERS), cycling(texts), {
        concurrency: RSS_CONCURRENCY,
        durationMs: Number.POSITIVE_INFINITY,
        requests: RSS_USERS * passes,
      });
    } finally {
      clearInterval(sampler);
    }
    const end = await server.memory();
    log(`RSS at the end ${mib(end.rssBytes).toFixed(0)} MiB; idle ${idleMs / 1000} s, then again`);
    await new Promise((resolve) => setTimeout(resolve, idleMs));
    const idle = await server.memory();
    const metrics = await server.metrics();
    const served = metrics?.get("sharelora_feature_cache_bytes");
    const features = served ?? featureCacheBytes(texts, head);
    const adapterCache = metrics?.get("sharelora_adapter_cache_bytes");
    return {
      provider,
      rssReadyMib: mib(ready.rssBytes),
      rssStartMib: mib(start.rssBytes),
      rssEndMib: mib(end.rssBytes),
      rssPeakMib: end.peakRssBytes === undefined ? null : mib(end.peakRssBytes),
      rssAfterIdleMib: mib(idle.rssBytes),
      nodeMemoryStart: startHeap,
      nodeMemoryEnd: nodeMemory(metrics),
      timelineMib: timeline,
      budgetMib: rssBudgetMib(start.rssBytes, features, RSS_ADAPTER_CACHE_BYTES),
      featureCacheMib: mib(features),
      featureCacheSource: served === undefined ? "computed" : "server",
      adapterCacheMib: adapterCache === undefined ? null : mib(adapterCache),
      scoresPerS: load.unitsPerS,
      requests: load.requests,
      fixture: { reused: fixture.reused, seconds: fixture.seconds },
      startSeconds,
    };
  } finally {
    await server.stop();
  }
}

export function rssReport(outcome: RssOutcome): {
  figures: Partial<Figures>;
  details: Record<string, unknown>;
  note: string;
} {
  const r1 = (x: number) => round(x, 1);
  return {
    figures: {
      rss_start_mib: r1(outcome.rssStartMib),
      rss_mib_100k_adapters: r1(outcome.rssEndMib),
      rss_budget_mib: r1(outcome.budgetMib),
    },
    details: {
      ready_mib: r1(outcome.rssReadyMib),
      peak_mib: outcome.rssPeakMib === null ? null : r1(outcome.rssPeakMib),
      after_idle_mib: r1(outcome.rssAfterIdleMib),
      timeline_mib: outcome.timelineMib,
      timeline_every_s: TIMELINE_INTERVAL_MS / 1000,
      node_memory_start: outcome.nodeMemoryStart,
      node_memory_end: outcome.nodeMemoryEnd,
      feature_cache_mib: round(outcome.featureCacheMib, 3),
      feature_cache_source: outcome.featureCacheSource,
      adapter_cache_mib_in_use:
        outcome.adapterCacheMib === null ? null : round(outcome.adapterCacheMib, 2),
      adapter_cache_limit_mib: mib(RSS_ADAPTER_CACHE_BYTES),
      scores_per_s: r1(outcome.scoresPerS),
      requests: outcome.requests,
      server_start_s: r1(outcome.startSeconds),
      fixture: { reused: outcome.fixture.reused, seconds: r1(outcome.fixture.seconds) },
    },
    note:
      "rss_budget_mib = rss_start_mib (RSS once the bench texts are in the feature cache: backbone, " +
      "onnxruntime sessions and the arena of the batches they ran, Node) + feature cache in use + " +
      "16 MiB adapter cache + 100 MiB; rss_mib_100k_adapters is VmRSS after one score request " +
      "for each of 100,000 users. details.rss_100k.ready_mib is RSS before any request.",
  };
}
