import type { FastifyInstance } from "fastify";
import type { Config } from "../config.js";
import { registerMetricsRoute, registerRequestMetrics } from "../metrics/http-metrics.js";
import type { AppState } from "./app-state.js";
import { type AuthSetup, registerAuth } from "./auth.js";
import { registerConcurrencyLimit } from "./concurrency.js";
import { registerDocs } from "./docs.js";
import { registerProtocolChecks } from "./protocol-errors.js";
import { registerUploadDeadline } from "./upload-deadline.js";

/**
 * Request metrics, HTTP checks Node would answer itself, API keys, the in-flight bound, the upload
 * deadline, the OpenAPI document and /metrics, in the order their hooks must run: a request is
 * counted even when it is refused (400, 401, 403, 429).
 * Call before the routes are registered.
 */
export async function registerOperations(
  app: FastifyInstance,
  options: { config: Config; state: AppState; auth: AuthSetup },
): Promise<void> {
  const { config, state, auth } = options;
  registerRequestMetrics(app, state.metrics);
  registerProtocolChecks(app);
  registerAuth(app, auth);
  const limit = registerConcurrencyLimit(app, {
    max: config.maxConcurrentRequests,
    backbone: () => state.runtime?.engine,
  });
  state.metrics.attachInFlight(() => limit.inFlight);
  registerUploadDeadline(app, config);
  await registerDocs(app, { version: state.version });
  if (config.metricsPort === 0) registerMetricsRoute(app, state.metrics);
}
