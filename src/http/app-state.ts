import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { Config } from "../config.js";
import { ServiceMetrics } from "../metrics/service-metrics.js";
import type { Runtime } from "../runtime.js";
import { ProblemError } from "./problem-error.js";

/** Mutable state shared by the routes: the runtime appears once the model is loaded. */
export class AppState {
  runtime: Runtime | undefined;
  shuttingDown = false;
  readonly version: string;
  /** This app's metrics, in a registry of its own. */
  readonly metrics = new ServiceMetrics();

  constructor(version = "0.0.0") {
    this.version = version;
  }

  require(): Runtime {
    if (this.shuttingDown) throw new ProblemError("SHUTTING_DOWN", "The server is shutting down");
    if (!this.runtime) throw new ProblemError("NOT_READY", "The model is still loading");
    if (this.runtime.backend.healthy?.() === false) {
      throw new ProblemError(
        "NOT_READY",
        "The inference worker stopped and is being restarted; retry shortly",
      );
    }
    return this.runtime;
  }

  /**
   * What limits the adapter store now, in words for /ready (never a user id): reads that stalled
   * and the threads they hold, or a store that cannot be reached. Throws STORE_UNAVAILABLE when
   * no uncached adapter can be read at all (every reader thread is stuck).
   */
  storeDegradation(runtime: Runtime): string[] {
    const stalls = runtime.adapters.readStalls();
    if (stalls.saturated) {
      throw new ProblemError(
        "STORE_UNAVAILABLE",
        `The adapter store is stalled: ${stalls.stuckThreads} reads have not returned`,
        { extensions: { retry_after_s: 1 } },
      );
    }
    const reasons: string[] = [];
    if (stalls.stuckThreads > 0) {
      reasons.push(
        `adapter store: ${stalls.stuckThreads} reader thread(s) left in reads that stalled`,
      );
    }
    if (stalls.stalledUsers > 0) {
      reasons.push(
        `adapter store: reads of ${stalls.stalledUsers} user(s) whose last read stalled fail until their retry time`,
      );
    }
    if (!runtime.adapters.healthy()) {
      reasons.push("adapter store: unreachable; cached adapters are served and may be stale");
    }
    return reasons;
  }
}

/** A group of routes: they reach shared state through `state` and read their limits from `config`. */
export type RoutePlugin = FastifyPluginAsyncZod<{ state: AppState; config: Config }>;
