import { measureBaseline } from "../baseline.js";
import { runLoad } from "../load.js";
import { latencyVsLoadSvg } from "../plot-svg.js";
import { postJson } from "../request.js";
import { type PhaseSummary, summarize } from "../summary.js";
import { type Check, checkBaseline, checkPhase, defaultP99Multiple } from "../thresholds.js";
import { seedAdapters } from "./seed-adapters.js";
import { maxRequestsFor } from "./single-phase.js";
import { TextSource } from "./texts.js";
import type { Scenario } from "./types.js";
import { roundRobin, userIds } from "./users.js";

export const SWEEP_CONNECTIONS = [1, 2, 4, 8, 16, 32] as const;
export const PLOT_DOCS_PATH = "docs/latency-vs-load.svg";

const HOT_USERS = userIds("hot", 4);

export const sweep: Scenario = {
  name: "sweep",
  description:
    `The score workload at ${SWEEP_CONNECTIONS.join(", ")} connections, each level for --duration ` +
    "seconds: p50 and p99 latency against achieved throughput, plotted to SVG.",
  defaultDurationS: 5,
  prepare: (target, seed) => seedAdapters(target, HOT_USERS, seed),
  async run(context) {
    const texts = new TextSource(context.seed);
    const user = roundRobin(HOT_USERS);
    const source = () =>
      postJson("/v1/score", {
        user: user(),
        items: [{ prompt: texts.prompt(), response: texts.fresh() }],
      });
    context.log("warm-up and single-request baseline (sweep)");
    const baseline = await measureBaseline(context.target, source);
    const checks: Check[] = [checkBaseline(baseline, (s) => s >= 200 && s < 300)];
    const phases: PhaseSummary[] = [];
    for (const connections of SWEEP_CONNECTIONS) {
      context.log(`load: ${connections} connections for up to ${context.durationS} s`);
      const result = await runLoad({
        target: context.target,
        connections,
        durationS: context.durationS,
        maxRequests: maxRequestsFor(context, connections),
        source,
      });
      const summary = summarize(`c=${connections}`, connections, result);
      phases.push(summary);
      checks.push(
        ...checkPhase(
          summary,
          { allow429: false, p99Multiple: defaultP99Multiple(connections) },
          baseline,
          true,
        ),
      );
    }
    const svg = latencyVsLoadSvg(
      phases.map((p) => ({
        connections: p.connections,
        rps: p.rps,
        p50Ms: p.latencyMs.p50,
        p99Ms: p.latencyMs.p99,
      })),
      {
        title: "sharelora POST /v1/score: latency vs offered load",
        subtitle: `one new text per request, ${context.durationS} s per level, ${new Date().toISOString().slice(0, 10)}`,
      },
    );
    return {
      baseline,
      phases,
      checks,
      notes: [`plot: p50 and p99 against achieved req/s; a copy goes to ${PLOT_DOCS_PATH}`],
      artifacts: [{ extension: "svg", content: svg, copyTo: PLOT_DOCS_PATH }],
    };
  },
};
