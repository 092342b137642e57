import type { JsonClient } from "./http-client.js";

export interface LoadRequest {
  path: string;
  body: unknown;
  /** What the request counts for: texts, or user-scored texts. */
  units: number;
}

export interface LoadPlan {
  client: JsonClient;
  concurrency: number;
  /** Loops stop issuing after this long; Infinity runs until `next` returns undefined. */
  durationMs: number;
  /** The next request of loop `loop`; undefined stops that loop. */
  next(loop: number): LoadRequest | undefined;
  /** Why a 200 answer is wrong (e.g. not personalized), or undefined when it is right. */
  check?(body: unknown): string | undefined;
  /**
   * Batched backbone work: keep issuing past durationMs until this many bursts of answers have
   * ended (so a slow machine still gives whole batches to measure), but not past maxDurationMs.
   */
  minBursts?: number;
  maxDurationMs?: number;
}

export interface LoadResult {
  unitsPerS: number;
  /** Units and seconds the rate was taken over. */
  units: number;
  seconds: number;
  requests: number;
  /** "bursts": between the ends of two bursts of answers (batched backbone work); else the whole run. */
  window: "bursts" | "run";
}

interface Completion {
  t: number;
  units: number;
}

/**
 * An answer ends a burst (one backbone batch answered) when silence follows it: at least
 * MIN_BURST_GAP_MS, and at least BURST_GAP_SHARE of the longest silence seen, so answers
 * trickling out of one batch on a starved machine do not count as bursts of their own.
 */
export const MIN_BURST_GAP_MS = 20;
export const BURST_GAP_SHARE = 0.25;

/**
 * Indices of the answers that end a burst, among answers at or before `to` only: what comes
 * later (the drain once issuing stopped) has no say, so the verdict at `to` is the one a run
 * deciding whether to go on would have reached then.
 */
export function burstEnds(completions: readonly Completion[], to: number): number[] {
  let inside = 0;
  while (inside < completions.length && completions[inside]!.t <= to) inside++;
  let maxGap = 0;
  for (let i = 1; i < inside; i++) {
    maxGap = Math.max(maxGap, completions[i]!.t - completions[i - 1]!.t);
  }
  const threshold = Math.max(MIN_BURST_GAP_MS, BURST_GAP_SHARE * maxGap);
  const ends: number[] = [];
  for (let i = 0; i + 1 < inside; i++) {
    if (completions[i + 1]!.t - completions[i]!.t >= threshold) ends.push(i);
  }
  return ends;
}

/**
 * Closed-loop load: `concurrency` loops each send a request, wait for its answer, and repeat;
 * requests in flight at the deadline are waited for, so the server is idle when this resolves.
 * Requests are never cancelled: that would close keep-alive connections, and a server whose
 * inference blocks its event loop takes many batches to accept and read them all again.
 */
export async function runLoad(plan: LoadPlan): Promise<LoadResult> {
  const completions: Completion[] = [];
  let failure: string | undefined;
  const started = performance.now();
  const deadline = started + plan.durationMs;
  const hardDeadline = started + Math.max(plan.durationMs, plan.maxDurationMs ?? 0);
  let stoppedAt: number | undefined;
  let counted = { answers: -1, enough: false };
  const enoughBursts = (now: number) => {
    if (counted.answers !== completions.length) {
      const enough =
        burstEnds(completions, now).length >= (plan.minBursts ?? 0) &&
        steadyRate(completions, started, now).window === "bursts";
      counted = { answers: completions.length, enough };
    }
    return counted.enough;
  };
  const issuing = () => {
    if (stoppedAt !== undefined) return false;
    const now = performance.now();
    const more =
      now < deadline || (plan.minBursts !== undefined && now < hardDeadline && !enoughBursts(now));
    if (!more) stoppedAt = now;
    return more;
  };
  const loop = async (index: number) => {
    while (failure === undefined && issuing()) {
      const request = plan.next(index);
      if (request === undefined) return;
      const response = await plan.client.post(request.path, request.body);
      const problem =
        response.status !== 200
          ? `HTTP ${response.status}: ${JSON.stringify(response.body).slice(0, 300)}`
          : plan.check?.(response.body);
      if (problem !== undefined) {
        failure ??= `${request.path}: ${problem}`;
        return;
      }
      completions.push({ t: performance.now(), units: request.units });
    }
  };
  await Promise.all(Array.from({ length: plan.concurrency }, (_, i) => loop(i)));
  if (failure !== undefined) throw new Error(`Load run failed: ${failure}`);
  const end = stoppedAt ?? performance.now();
  return { ...steadyRate(completions, started, end), requests: completions.length };
}

/**
 * Rate of answered units. A batched server answers in bursts, so a fixed window would count a
 * partial batch at either edge; the rate is taken between the ends of the first and the last
 * burst instead, when they span at least half the run.
 */
export function steadyRate(
  completions: readonly Completion[],
  from: number,
  to: number,
): Omit<LoadResult, "requests"> {
  const inside = completions.filter((c) => c.t <= to);
  const ends = burstEnds(completions, to);
  if (ends.length >= 2) {
    const first = ends[0]!;
    const last = ends[ends.length - 1]!;
    const span = inside[last]!.t - inside[first]!.t;
    // Half the run at least: a few stray pauses close together are not batches.
    if (span >= (to - from) / 2) {
      let units = 0;
      for (let i = first + 1; i <= last; i++) units += inside[i]!.units;
      return { unitsPerS: (units / span) * 1000, units, seconds: span / 1000, window: "bursts" };
    }
  }
  let units = 0;
  for (const c of inside) units += c.units;
  const seconds = (to - from) / 1000;
  return { unitsPerS: units / seconds, units, seconds, window: "run" };
}
