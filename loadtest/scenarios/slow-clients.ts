import { request } from "node:http";
import { measureBaseline } from "../baseline.js";
import { postJson, type RequestSpec } from "../request.js";
import { MAX_SLOW_CONNECTIONS, SlowBodies, type SlowBodyStats } from "../slow-bodies.js";
import type { PhaseSummary } from "../summary.js";
import type { Target } from "../target.js";
import { type Check, checkBaseline } from "../thresholds.js";
import { TextSource } from "./texts.js";
import type { Scenario, ScenarioContext } from "./types.js";

export const SLOW_CONNECTIONS = 512;
/** The normal client must get each answer within this long while the slow bodies are open. */
export const SERVED_WITHIN_MS = 1000;
const REQUEST_TIMEOUT_MS = 10_000;

/** One request on a connection of its own, so that accepting connections is measured too. */
function sendOnNewConnection(
  target: Target,
  spec: RequestSpec,
): Promise<{ status: number | "timeout" | "error"; ms: number }> {
  const started = performance.now();
  const url = new URL(target.url + spec.path);
  return new Promise((resolve) => {
    const done = (status: number | "timeout" | "error") =>
      resolve({ status, ms: performance.now() - started });
    const req = request(
      url,
      {
        method: spec.method,
        agent: false,
        headers: { ...target.headers, "content-type": "application/json" },
        timeout: REQUEST_TIMEOUT_MS,
      },
      (res) => {
        res.resume();
        res.once("end", () => done(res.statusCode ?? 0));
        res.once("error", () => done("error"));
      },
    );
    req.once("timeout", () => {
      req.destroy();
      done("timeout");
    });
    req.once("error", () => done("error"));
    req.end(spec.body);
  });
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

interface NormalClientRun {
  latencies: number[];
  statuses: Record<string, number>;
  /** Slow connections open as each request was sent. */
  openSeen: number[];
  elapsedS: number;
}

/** One request at a time until the duration or the request bound runs out. */
async function runNormalClient(
  context: ScenarioContext,
  source: () => RequestSpec,
  slow: SlowBodies,
): Promise<NormalClientRun> {
  const run: NormalClientRun = { latencies: [], statuses: {}, openSeen: [], elapsedS: 0 };
  const started = performance.now();
  const maxRequests = context.maxRequests ?? Math.ceil(context.durationS * 1000);
  while (
    performance.now() - started < context.durationS * 1000 &&
    run.latencies.length < maxRequests
  ) {
    run.openSeen.push(slow.open);
    const { status, ms } = await sendOnNewConnection(context.target, source());
    run.statuses[status] = (run.statuses[status] ?? 0) + 1;
    run.latencies.push(ms);
  }
  run.elapsedS = (performance.now() - started) / 1000;
  return run;
}

function phaseOf(run: NormalClientRun, slowCount: number): PhaseSummary {
  const sorted = [...run.latencies].sort((a, b) => a - b);
  const timeouts = run.statuses["timeout"] ?? 0;
  const errors = run.statuses["error"] ?? 0;
  return {
    label: `normal client, ${slowCount} slow bodies open`,
    connections: 1,
    durationS: run.elapsedS,
    requests: sorted.length - timeouts - errors,
    sent: sorted.length,
    rps: sorted.length / run.elapsedS,
    latencyMs: {
      mean: sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length),
      p50: quantile(sorted, 0.5),
      p90: quantile(sorted, 0.9),
      p99: quantile(sorted, 0.99),
      max: sorted.at(-1) ?? 0,
    },
    errors,
    timeouts,
    statuses: Object.fromEntries(Object.entries(run.statuses).filter(([s]) => /^\d+$/.test(s))),
  };
}

function slowNotes(stats: SlowBodyStats, openSorted: number[]): string[] {
  const closed = Object.entries(stats.closedByServer)
    .map(([status, n]) => `${n} × ${status}`)
    .join(", ");
  const after = [...stats.closedAfterMs].sort((a, b) => a - b);
  return [
    `slow connections: ${stats.opened} opened (each closed by the server was reopened), ` +
      `${after.length} closed by the server (${closed || "none"})` +
      (after.length > 0
        ? `, after ${(quantile(after, 0.5) / 1000).toFixed(1)} s (median), ` +
          `${(after[0]! / 1000).toFixed(1)}–${(after.at(-1)! / 1000).toFixed(1)} s`
        : "") +
      `, ${stats.errors} socket errors`,
    `slow connections open when each normal request was sent: min ${openSorted[0] ?? 0}, ` +
      `median ${quantile(openSorted, 0.5)}, max ${openSorted.at(-1) ?? 0}`,
  ];
}

function slowChecks(
  context: ScenarioContext,
  run: NormalClientRun,
  stats: SlowBodyStats,
  count: number,
): Check[] {
  const not2xx = Object.entries(run.statuses).filter(([s]) => !/^2\d\d$/.test(s));
  const slowest = Math.max(0, ...run.latencies);
  const served = run.latencies.length > 0 && not2xx.length === 0 && slowest <= SERVED_WITHIN_MS;
  // Connections opened together are cut together, so the count dips while they reconnect.
  const typical = quantile(
    [...run.openSeen].sort((a, b) => a - b),
    0.5,
  );
  const cut = stats.closedByServer["408"] ?? 0;
  const others = Object.entries(stats.closedByServer).filter(([s]) => s !== "408");
  // Only a server the runner started is known to run with the default grace of 5 s.
  const mustCut = context.serverPid !== undefined && context.durationS >= 10;
  return [
    {
      name: `normal client served within ${SERVED_WITHIN_MS} ms`,
      status: served ? "pass" : "fail",
      detail:
        `${run.latencies.length} requests, max ${slowest.toFixed(1)} ms; ` +
        (not2xx.length === 0
          ? "all 2xx"
          : `not 2xx: ${not2xx.map(([s, n]) => `${s}×${n}`).join(", ")}`),
    },
    {
      name: "slow bodies stayed open",
      status: typical >= count * 0.9 ? "pass" : "fail",
      detail: `median ${typical} of ${count} open when a normal request was sent`,
    },
    {
      name: "slow bodies are cut off with 408",
      status: others.length > 0 ? "fail" : cut > 0 ? "pass" : mustCut ? "fail" : "skip",
      detail:
        `${cut} closed with 408` +
        (others.length > 0 ? `; also ${others.map(([s, n]) => `${n} × ${s}`).join(", ")}` : "") +
        (cut === 0 && !mustCut ? " (a run under 10 s may end before the server's grace)" : ""),
    },
  ];
}

export const slowClients: Scenario = {
  name: "slow-clients",
  description:
    `${SLOW_CONNECTIONS} connections (--connections) send their headers and then their body at ` +
    "1 byte/s, and open a new one whenever the server closes one, while one normal client sends " +
    `score requests one at a time, each on a new connection: every one must be answered 2xx within ` +
    `${SERVED_WITHIN_MS} ms. The server runs with its default limits (--max-concurrent-requests ` +
    "512), which the slow bodies would fill if they held a permit.",
  defaultDurationS: 20,
  async run(context) {
    const count = context.connections ?? SLOW_CONNECTIONS;
    if (count > MAX_SLOW_CONNECTIONS) {
      throw new RangeError(`slow-clients opens at most ${MAX_SLOW_CONNECTIONS} connections`);
    }
    const texts = new TextSource(context.seed);
    const source = () =>
      postJson("/v1/score", { items: [{ prompt: texts.prompt(), response: texts.fresh() }] });
    context.log("warm-up and single-request baseline (slow-clients)");
    const baseline = await measureBaseline(context.target, source);
    const checks: Check[] = [checkBaseline(baseline, (s) => s >= 200 && s < 300)];
    context.log(`opening ${count} slow-body connections`);
    const slow = await SlowBodies.open({
      url: context.target.url,
      count,
      headers: context.target.headers,
      reopen: true,
      lifetimeMs: (context.durationS + 60) * 1000,
    });
    let run: NormalClientRun;
    try {
      context.log(`load: one normal client for ${context.durationS} s`);
      run = await runNormalClient(context, source, slow);
    } finally {
      slow.close();
    }
    const stats = slow.stats;
    checks.push(...slowChecks(context, run, stats, count));
    const openSorted = [...run.openSeen].sort((a, b) => a - b);
    return { baseline, phases: [phaseOf(run, count)], checks, notes: slowNotes(stats, openSorted) };
  },
};
