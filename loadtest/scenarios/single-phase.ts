import {
  type Baseline,
  type BaselineOptions,
  combineBaselines,
  measureBaseline,
} from "../baseline.js";
import { runLoad } from "../load.js";
import type { RequestSource } from "../request.js";
import {
  assessMemory,
  type MemoryBounds,
  metricsRssReader,
  procRssReader,
  RssSampler,
} from "../rss.js";
import { summarize } from "../summary.js";
import {
  type Check,
  checkBaseline,
  checkMemory,
  checkPhase,
  defaultP99Multiple,
  type PhasePolicy,
} from "../thresholds.js";
import type { SeedTarget } from "./seed-adapters.js";
import type { Scenario, ScenarioContext, ScenarioResult } from "./types.js";

/** The most requests per second any scenario is allowed: the request-count bound is duration × this. */
export const MAX_RATE = 5000;

export function maxRequestsFor(context: ScenarioContext, connections: number): number {
  return Math.max(connections, context.maxRequests ?? Math.ceil(context.durationS * MAX_RATE));
}

export interface PreparedSource {
  source: RequestSource;
  /** Measure the single-request baseline kind by kind instead of on `source` (a mix). */
  baselineKinds?: { name: string; source: RequestSource; options?: BaselineOptions }[];
  checks?: Check[];
  notes?: string[];
  /** After the load: notes (e.g. how many requests of each kind were built) and checks. */
  afterRun?(): Promise<{ notes?: string[]; checks?: Check[] }>;
}

export interface SinglePhaseSpec {
  name: string;
  description: string;
  defaultDurationS?: number;
  connections: number;
  /** 429 handling; the p99 multiple defaults to defaultP99Multiple(connections), null: no check. */
  policy: Omit<PhasePolicy, "p99Multiple"> & { p99Multiple?: number | null };
  serverFlags?: Record<string, string | number>;
  prepare?(target: SeedTarget, seed: number): Promise<void>;
  source(context: ScenarioContext): Promise<PreparedSource>;
  /** Sample the server's RSS during the run and bound its growth (soak). */
  memory?: MemoryBounds & { intervalMs: number };
}

async function pickRssReader(context: ScenarioContext) {
  if (context.serverPid !== undefined) {
    const proc = procRssReader(context.serverPid);
    if ((await proc()) !== undefined) return { source: "proc" as const, read: proc };
  }
  const metrics = metricsRssReader(context.target);
  if ((await metrics()) !== undefined) return { source: "metrics" as const, read: metrics };
  return undefined;
}

async function baselineOf(context: ScenarioContext, prepared: PreparedSource): Promise<Baseline> {
  if (!prepared.baselineKinds) return measureBaseline(context.target, prepared.source);
  const kinds: Record<string, Baseline> = {};
  for (const kind of prepared.baselineKinds) {
    kinds[kind.name] = await measureBaseline(context.target, kind.source, kind.options);
  }
  return combineBaselines(kinds);
}

/** Warm-up and single-request baseline, then one bounded autocannon run, then the checks. */
export function singlePhaseScenario(spec: SinglePhaseSpec): Scenario {
  return {
    name: spec.name,
    description: spec.description,
    defaultDurationS: spec.defaultDurationS ?? 20,
    ...(spec.serverFlags ? { serverFlags: spec.serverFlags } : {}),
    ...(spec.prepare ? { prepare: spec.prepare } : {}),
    async run(context): Promise<ScenarioResult> {
      const connections = context.connections ?? spec.connections;
      const prepared = await spec.source(context);
      context.log(`warm-up and single-request baseline (${spec.name})`);
      const baseline = await baselineOf(context, prepared);
      const checks: Check[] = [...(prepared.checks ?? [])];
      checks.push(checkBaseline(baseline, (s) => s >= 200 && s < 300));
      const reader = spec.memory ? await pickRssReader(context) : undefined;
      const sampler = reader ? new RssSampler(reader.read, spec.memory!.intervalMs) : undefined;
      context.log(`load: ${connections} connections for up to ${context.durationS} s`);
      sampler?.start();
      const result = await runLoad({
        target: context.target,
        connections,
        durationS: context.durationS,
        maxRequests: maxRequestsFor(context, connections),
        source: prepared.source,
      });
      const samples = await sampler?.stop();
      const summary = summarize(spec.name, connections, result);
      const { p99Multiple, ...policy } = spec.policy;
      const multiple =
        p99Multiple === null ? undefined : (p99Multiple ?? defaultP99Multiple(connections));
      checks.push(
        ...checkPhase(
          summary,
          { ...policy, ...(multiple === undefined ? {} : { p99Multiple: multiple }) },
          baseline,
        ),
      );
      const after = (await prepared.afterRun?.()) ?? {};
      checks.push(...(after.checks ?? []));
      const notes = [...(prepared.notes ?? []), ...(after.notes ?? [])];
      const out: ScenarioResult = { baseline, phases: [summary], checks, notes };
      if (spec.memory) {
        if (reader && samples && samples.length > 0) {
          out.memory = assessMemory(samples, spec.memory, reader.source);
          checks.push(...checkMemory(out.memory));
        } else {
          checks.push({
            name: "RSS growth",
            status: "skip",
            detail: "no RSS: neither /proc/<pid>/status of a child server nor /metrics",
          });
        }
      }
      return out;
    },
  };
}
