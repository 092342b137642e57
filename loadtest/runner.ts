import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { fileStamp, type Report, type ReportFiles, renderMarkdown, writeReport } from "./report.js";
import { SCENARIOS } from "./scenarios/index.js";
import type { ScenarioResult } from "./scenarios/types.js";
import { type ServerProcess, startServerProcess } from "./server-process.js";
import { resolveTarget, type Target } from "./target.js";
import { allPassed, type Check } from "./thresholds.js";

const REPO_ROOT = fileURLToPath(new URL("../", import.meta.url));
export const DEFAULT_RESULTS_DIR = join(REPO_ROOT, "loadtest", "results");
export const DEFAULT_SEED = 20_250_319;

export class UsageError extends Error {
  readonly code = "INVALID_USAGE";
  override readonly name = "UsageError";
}

export interface RunOptions {
  scenario: string;
  /** An external server; without it the runner starts one on loopback. */
  url?: string;
  /** Sent as `Authorization: Bearer <key>` to an external server that requires keys. */
  apiKey?: string;
  /** Extra `serve` flags (without dashes) for the server the runner starts, over the scenario's. */
  serverFlags?: Record<string, string>;
  /** Seconds of load (per level for the sweep); default: the scenario's. */
  durationS?: number;
  /** Overrides the scenario's connection count (not the sweep's levels). */
  connections?: number;
  /** Overrides the request-count bound (default: duration × 5000). */
  maxRequests?: number;
  seed?: number;
  /** Where reports go; default loadtest/results. */
  outDir?: string;
  /** Copy plots to their place under docs/ (the sweep's); default true. */
  copyArtifacts?: boolean;
  log?: (line: string) => void;
}

export interface RunOutcome {
  report: Report;
  markdown: string;
  files: ReportFiles & { artifacts: string[] };
  passed: boolean;
}

function positive(name: string, value: number | undefined, integer: boolean): void {
  if (value === undefined) return;
  const ok = integer ? Number.isSafeInteger(value) && value > 0 : value > 0 && value < 86_400;
  if (!ok)
    throw new UsageError(
      `${name}: expected a positive ${integer ? "integer" : "number"}, got ${value}`,
    );
}

function serverChecks(server: ServerProcess, diedDuringRun: boolean, code: number | null): Check[] {
  return [
    diedDuringRun
      ? {
          name: "server stayed up",
          status: "fail",
          detail: `it exited during the run:\n${server.outputTail()}`,
        }
      : { name: "server stayed up", status: "pass", detail: `pid ${server.pid}` },
    code === 0
      ? { name: "server shut down cleanly", status: "pass", detail: "SIGTERM → exit 0" }
      : { name: "server shut down cleanly", status: "fail", detail: `exit code ${code}` },
  ];
}

/** An external server must answer GET /ready with 200 before any adapter or load goes to it. */
async function assertReady(target: Target): Promise<void> {
  let status: number;
  try {
    const response = await fetch(`${target.url}/ready`, {
      headers: target.headers,
      signal: AbortSignal.timeout(10_000),
    });
    await response.arrayBuffer();
    status = response.status;
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const reason = cause?.code ?? cause?.message ?? (error as Error).message;
    throw new Error(`cannot reach ${target.url}/ready: ${reason}`);
  }
  if (status !== 200) throw new Error(`${target.url}/ready answered ${status}: not ready`);
}

/** One scenario end to end; `npm run loadtest` and the CI smoke test both come through here. */
export async function runScenario(options: RunOptions): Promise<RunOutcome> {
  const scenario = SCENARIOS.get(options.scenario);
  if (!scenario) {
    throw new UsageError(
      `unknown scenario ${options.scenario}; expected one of ${[...SCENARIOS.keys()].join(", ")}`,
    );
  }
  positive("duration", options.durationS, false);
  positive("connections", options.connections, true);
  positive("max-requests", options.maxRequests, true);
  const log = options.log ?? (() => {});
  const seed = options.seed ?? DEFAULT_SEED;
  const startedAt = new Date().toISOString();
  const notes: string[] = [];
  let server: ServerProcess | undefined;
  let adaptersDir: string | undefined;
  let target: Target;
  let result: ScenarioResult;
  const checks: Check[] = [];
  try {
    if (options.url !== undefined) {
      target = {
        url: resolveTarget(options.url, true),
        headers: options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {},
      };
      await assertReady(target);
      if (options.serverFlags && Object.keys(options.serverFlags).length > 0) {
        throw new UsageError("--server-flag applies to the server the runner starts, not to --url");
      }
      if (scenario.serverFlags) {
        notes.push(
          `external server: the scenario's flags were not applied (${JSON.stringify(scenario.serverFlags)})`,
        );
      }
      if (scenario.prepare) {
        log(`preparing adapters through ${target.url}`);
        await scenario.prepare({ kind: "http", target }, seed);
      }
    } else {
      adaptersDir = await mkdtemp(join(tmpdir(), `sharelora-loadtest-${scenario.name}-`));
      if (scenario.prepare) {
        log(`preparing adapters in ${adaptersDir}`);
        await scenario.prepare({ kind: "dir", dir: adaptersDir }, seed);
      }
      log("starting the server");
      server = await startServerProcess({
        adaptersDir,
        flags: { ...scenario.serverFlags, ...options.serverFlags },
      });
      target = { url: resolveTarget(server.url, false), headers: {} };
      log(`server ready at ${target.url} (pid ${server.pid})`);
    }
    result = await scenario.run({
      target,
      serverPid: server?.pid,
      durationS: options.durationS ?? scenario.defaultDurationS,
      connections: options.connections,
      maxRequests: options.maxRequests,
      seed,
      log,
    });
    if (server) {
      const diedDuringRun = server.exit !== undefined;
      const exit = await server.stop();
      checks.push(...serverChecks(server, diedDuringRun, exit.code));
    }
  } finally {
    await server?.stop();
    if (adaptersDir) await rm(adaptersDir, { recursive: true, force: true });
  }
  checks.unshift(...result.checks);
  const report: Report = {
    scenario: scenario.name,
    description: scenario.description,
    startedAt,
    finishedAt: new Date().toISOString(),
    target: {
      url: target.url,
      startedByRunner: server !== undefined,
      ...(server ? { serverCommand: server.args.join(" ") } : {}),
    },
    ...(result.baseline ? { baseline: result.baseline } : {}),
    phases: result.phases,
    ...(result.memory ? { memory: result.memory } : {}),
    checks,
    notes: [...notes, ...result.notes],
    passed: allPassed(checks),
  };
  const outDir = resolve(options.outDir ?? DEFAULT_RESULTS_DIR);
  const files = await writeReport(report, outDir);
  const artifacts: string[] = [];
  for (const artifact of result.artifacts ?? []) {
    const path = join(outDir, `${fileStamp(startedAt)}-${scenario.name}.${artifact.extension}`);
    await writeFile(path, artifact.content);
    artifacts.push(path);
    if (artifact.copyTo && options.copyArtifacts !== false) {
      const copy = join(REPO_ROOT, artifact.copyTo);
      await mkdir(dirname(copy), { recursive: true });
      await copyFile(path, copy);
      artifacts.push(copy);
    }
  }
  return {
    report,
    markdown: renderMarkdown(report),
    files: { ...files, artifacts },
    passed: report.passed,
  };
}
