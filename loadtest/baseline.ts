import type { RequestSource, RequestSpec } from "./request.js";
import type { Target } from "./target.js";

export interface Baseline {
  /** Sequential requests timed (after the warm-up ones). */
  samples: number;
  p50Ms: number;
  maxMs: number;
  /** Statuses of every warm-up and timed request, by code. */
  statuses: Record<string, number>;
  /** Per request kind, when a mix was measured kind by kind (see combineBaselines). */
  kinds?: Record<string, Baseline>;
}

export interface BaselineOptions {
  /** Untimed requests first (JIT, caches, connection); default 5. */
  warmup?: number;
  /** Timed requests; default 10. */
  samples?: number;
}

export async function sendOnce(
  target: Target,
  spec: RequestSpec,
): Promise<{ status: number; body: string }> {
  const response = await fetch(target.url + spec.path, {
    method: spec.method,
    headers:
      spec.body === undefined
        ? target.headers
        : { ...target.headers, "content-type": "application/json" },
    ...(spec.body === undefined ? {} : { body: spec.body }),
    signal: AbortSignal.timeout(30_000),
  });
  return { status: response.status, body: await response.text() };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Single-request latency: requests from the scenario's own source, one at a time, so nothing
 * queues. It is the reference the p99 under load is compared with.
 */
export async function measureBaseline(
  target: Target,
  source: RequestSource,
  options: BaselineOptions = {},
): Promise<Baseline> {
  const warmup = options.warmup ?? 5;
  const samples = options.samples ?? 10;
  if (!Number.isSafeInteger(samples) || samples < 1) {
    throw new TypeError(`samples: expected a positive integer, got ${samples}`);
  }
  const statuses: Record<string, number> = {};
  const times: number[] = [];
  for (let i = 0; i < warmup + samples; i++) {
    const started = performance.now();
    const { status } = await sendOnce(target, source());
    const elapsed = performance.now() - started;
    statuses[status] = (statuses[status] ?? 0) + 1;
    if (i >= warmup) times.push(elapsed);
  }
  return { samples, p50Ms: median(times), maxMs: Math.max(...times), statuses };
}

/**
 * A mix of request kinds (e.g. score and fit) against one p99: the slowest kind's latency is the
 * reference, since a few percent of slow requests already make up the mix's p99.
 */
export function combineBaselines(kinds: Record<string, Baseline>): Baseline {
  const all = Object.values(kinds);
  if (all.length === 0) throw new TypeError("expected at least one baseline to combine");
  const statuses: Record<string, number> = {};
  for (const kind of all) {
    for (const [status, n] of Object.entries(kind.statuses)) {
      statuses[status] = (statuses[status] ?? 0) + n;
    }
  }
  return {
    samples: all.reduce((sum, kind) => sum + kind.samples, 0),
    p50Ms: Math.max(...all.map((kind) => kind.p50Ms)),
    maxMs: Math.max(...all.map((kind) => kind.maxMs)),
    statuses,
    kinds,
  };
}
