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
}

/** A group of routes: they reach shared state through `state` and read their limits from `config`. */
export type RoutePlugin = FastifyPluginAsyncZod<{ state: AppState; config: Config }>;
