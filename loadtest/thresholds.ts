import type { Baseline } from "./baseline.js";
import type { MemoryAssessment } from "./rss.js";
import { countStatuses, type PhaseSummary } from "./summary.js";

export type CheckStatus = "pass" | "fail" | "skip";

export interface Check {
  name: string;
  status: CheckStatus;
  detail: string;
}

/**
 * Single-request latencies below this are treated as this for the p99 bound: on a loopback
 * server answering from caches in a millisecond, scheduler jitter alone exceeds any multiple.
 */
export const LATENCY_FLOOR_MS = 10;

/**
 * The default p99 multiple for `connections` closed-loop clients: a saturated server makes each
 * request wait behind up to connections − 1 others, so the median grows about linearly with
 * them; twice that leaves room for the tail (batch boundaries, GC). Never below 4.
 */
export function defaultP99Multiple(connections: number): number {
  return Math.max(4, 2 * connections);
}

export interface PhasePolicy {
  /** 429 answers are expected (overload) instead of a failure. */
  allow429: boolean;
  /** The phase must shed load: at least one 429 and at least one 2xx. */
  expectShedding?: boolean;
  /** p99 ≤ multiple × max(single-request p50, LATENCY_FLOOR_MS); undefined: not checked. */
  p99Multiple?: number;
}

const pass = (name: string, detail: string): Check => ({ name, status: "pass", detail });
const fail = (name: string, detail: string): Check => ({ name, status: "fail", detail });
const verdict = (name: string, ok: boolean, detail: string): Check =>
  ok ? pass(name, detail) : fail(name, detail);

function formatStatuses(statuses: Record<string, number>): string {
  const entries = Object.entries(statuses);
  return entries.length === 0 ? "none" : entries.map(([s, n]) => `${s}×${n}`).join(", ");
}

export function p99BoundMs(baseline: Baseline, multiple: number): number {
  return multiple * Math.max(baseline.p50Ms, LATENCY_FLOOR_MS);
}

/** The suite's thresholds for one load phase; names are prefixed with the phase when `prefix`. */
export function checkPhase(
  summary: PhaseSummary,
  policy: PhasePolicy,
  baseline: Baseline | undefined,
  prefix = false,
): Check[] {
  const name = (n: string) => (prefix ? `${summary.label}: ${n}` : n);
  const count5xx = countStatuses(summary, (s) => s >= 500);
  const count429 = countStatuses(summary, (s) => s === 429);
  const count2xx = countStatuses(summary, (s) => s >= 200 && s < 300);
  const others = Object.fromEntries(
    Object.entries(summary.statuses).filter(([s]) => {
      const status = Number(s);
      return !(status >= 200 && status < 300) && status !== 429 && status < 500;
    }),
  );
  const checks = [
    verdict(name("requests completed"), summary.requests > 0, `${summary.requests} responses`),
    verdict(name("zero 5xx"), count5xx === 0, `${count5xx} responses with a 5xx status`),
    verdict(name("no timeouts"), summary.timeouts === 0, `${summary.timeouts} timeouts`),
    verdict(name("no connection errors"), summary.errors === 0, `${summary.errors} errors`),
    verdict(
      name("no other non-2xx"),
      Object.keys(others).length === 0,
      `unexpected statuses: ${formatStatuses(others)}`,
    ),
  ];
  if (policy.allow429) {
    if (policy.expectShedding) {
      checks.push(
        verdict(
          name("sheds load with 429"),
          count429 > 0 && count2xx > 0,
          `${count429} × 429 and ${count2xx} × 2xx`,
        ),
      );
    }
  } else {
    checks.push(
      verdict(name("429 only under overload"), count429 === 0, `${count429} × 429 in this phase`),
    );
  }
  if (policy.p99Multiple !== undefined) {
    if (baseline === undefined) {
      checks.push({
        name: name("p99 within bound"),
        status: "skip",
        detail: "no single-request baseline",
      });
    } else {
      const bound = p99BoundMs(baseline, policy.p99Multiple);
      checks.push(
        verdict(
          name("p99 within bound"),
          summary.latencyMs.p99 <= bound,
          `p99 ${summary.latencyMs.p99.toFixed(1)} ms vs bound ${bound.toFixed(1)} ms ` +
            `(${policy.p99Multiple} × max(single p50 ${baseline.p50Ms.toFixed(1)} ms, ${LATENCY_FLOOR_MS} ms))`,
        ),
      );
    }
  }
  return checks;
}

export function checkBaseline(baseline: Baseline, allowed: (status: number) => boolean): Check {
  const bad = Object.fromEntries(
    Object.entries(baseline.statuses).filter(([s]) => !allowed(Number(s))),
  );
  return verdict(
    "baseline requests succeed",
    Object.keys(bad).length === 0,
    `sequential warm-up and baseline statuses: ${formatStatuses(baseline.statuses)}`,
  );
}

export function checkMemory(memory: MemoryAssessment): Check[] {
  const { bounds } = memory;
  const slopeCheck: Check =
    memory.slopeMiBPerMin === null || memory.slopeSpanS < bounds.minSlopeSpanS
      ? {
          name: "RSS slope (second half)",
          status: "skip",
          detail:
            `the second half spans ${memory.slopeSpanS.toFixed(0)} s with ${memory.slopeSamples} samples; ` +
            `${bounds.minSlopeSpanS} s and 3 samples needed` +
            (memory.slopeMiBPerMin === null
              ? ""
              : ` (measured ${memory.slopeMiBPerMin.toFixed(2)} MiB/min)`),
        }
      : verdict(
          "RSS slope (second half)",
          memory.slopeMiBPerMin <= bounds.maxSlopeMiBPerMin,
          `${memory.slopeMiBPerMin.toFixed(2)} MiB/min vs bound ${bounds.maxSlopeMiBPerMin} MiB/min`,
        );
  return [
    slopeCheck,
    verdict(
      "RSS growth after warm-up",
      memory.growthMiB <= bounds.maxGrowthMiB,
      `${memory.growthMiB.toFixed(1)} MiB (${memory.afterWarmupMiB.toFixed(1)} → ` +
        `${memory.finalMiB.toFixed(1)} MiB) vs bound ${bounds.maxGrowthMiB} MiB`,
    ),
  ];
}

export function allPassed(checks: readonly Check[]): boolean {
  return checks.every((check) => check.status !== "fail");
}
