import type { Baseline } from "../baseline.js";
import type { MemoryAssessment } from "../rss.js";
import type { PhaseSummary } from "../summary.js";
import type { Target } from "../target.js";
import type { Check } from "../thresholds.js";
import type { SeedTarget } from "./seed-adapters.js";

export interface ScenarioContext {
  /** The server under test. */
  target: Target;
  /** The server's process id when the runner started it; undefined with --url. */
  serverPid: number | undefined;
  /** Seconds of load (per level, for the sweep). */
  durationS: number;
  /** --connections, overriding the scenario's own. */
  connections: number | undefined;
  /** --max-requests, overriding the bound derived from the duration. */
  maxRequests: number | undefined;
  seed: number;
  log(line: string): void;
}

/** An extra output file, written next to the report as <stamp>-<scenario>.<extension>. */
export interface Artifact {
  extension: string;
  content: string;
  /** Also copied here (relative to the repository root), unless the runner is told not to. */
  copyTo?: string;
}

export interface ScenarioResult {
  baseline?: Baseline;
  phases: PhaseSummary[];
  memory?: MemoryAssessment;
  checks: Check[];
  notes: string[];
  artifacts?: Artifact[];
}

export interface Scenario {
  name: string;
  description: string;
  defaultDurationS: number;
  /** `serve` flags (without dashes) when the runner starts the server itself. */
  serverFlags?: Record<string, string | number>;
  /** Runs before the load: before the server starts (dir) or against the external one (http). */
  prepare?(target: SeedTarget, seed: number): Promise<void>;
  run(context: ScenarioContext): Promise<ScenarioResult>;
}
