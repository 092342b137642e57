import type { Server } from "node:http";
import type { FastifyHttpOptions } from "fastify";
import type { Config } from "../config.js";
import { answerClientError } from "./protocol-errors.js";

/** How often Node looks for requests past their header or request deadline (its default: 30 s). */
const TIMEOUT_CHECK_INTERVAL_MS = 1000;

/** The HTTP server's own limits, and the answer to what Node cannot parse or receive in time. */
export function serverOptions(
  config: Pick<Config, "headersTimeoutMs" | "bodyTimeoutMs">,
): FastifyHttpOptions<Server> {
  // Node's deadline for a whole request, as a backstop for bodies no parser reads (a GET's, or
  // a refused request's); bodies that are read meet their own deadline first (upload-deadline.ts).
  const requestTimeout = config.headersTimeoutMs + config.bodyTimeoutMs;
  return {
    requestTimeout,
    http: {
      headersTimeout: config.headersTimeoutMs,
      requestTimeout,
      connectionsCheckingInterval: Math.min(TIMEOUT_CHECK_INTERVAL_MS, config.headersTimeoutMs),
    },
    clientErrorHandler: answerClientError,
  };
}
