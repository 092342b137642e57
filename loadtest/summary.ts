import type autocannon from "autocannon";

/** What one autocannon run measured, in the units the report prints. */
export interface PhaseSummary {
  label: string;
  connections: number;
  /** Seconds the run actually took. */
  durationS: number;
  /** Responses received. */
  requests: number;
  /** Requests sent (some may have been cut off at the end). */
  sent: number;
  /** Responses per second over the run. */
  rps: number;
  latencyMs: { mean: number; p50: number; p90: number; p99: number; max: number };
  /** Connection errors other than timeouts. */
  errors: number;
  timeouts: number;
  /** Response counts by HTTP status. */
  statuses: Record<string, number>;
}

export function summarize(
  label: string,
  connections: number,
  result: autocannon.Result,
): PhaseSummary {
  const statuses: Record<string, number> = {};
  for (const [status, stats] of Object.entries(result.statusCodeStats ?? {})) {
    if (stats?.count) statuses[status] = stats.count;
  }
  const requests = result.requests.total;
  return {
    label,
    connections,
    durationS: result.duration,
    requests,
    sent: result.requests.sent,
    rps: result.duration > 0 ? requests / result.duration : 0,
    latencyMs: {
      mean: result.latency.mean,
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
    },
    errors: Math.max(0, result.errors - result.timeouts),
    timeouts: result.timeouts,
    statuses,
  };
}

export function countStatuses(
  summary: PhaseSummary,
  predicate: (status: number) => boolean,
): number {
  let count = 0;
  for (const [status, n] of Object.entries(summary.statuses)) {
    if (predicate(Number(status))) count += n;
  }
  return count;
}

export function non2xx(summary: PhaseSummary): Record<string, number> {
  return Object.fromEntries(
    Object.entries(summary.statuses).filter(([status]) => !status.startsWith("2")),
  );
}
