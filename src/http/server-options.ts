import { maxHeaderSize, type Server } from "node:http";
import type { FastifyHttpOptions } from "fastify";
import type { Config } from "../config.js";
import { sendProblem } from "./problem.js";
import { answerClientError } from "./protocol-errors.js";

/** How often Node looks for requests past their header or request deadline (its default: 30 s). */
const TIMEOUT_CHECK_INTERVAL_MS = 1000;

/**
 * The HTTP server's own limits and the errors it answers before any route: no error body of
 * fastify's or Node's reaches a client.
 */
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
      // Answered by registerProtocolChecks, with a problem body instead of none.
      requireHostHeader: false,
    },
    // The limit guards regex routes, which we have none of. A URL cannot be longer than the
    // headers, so every path parameter reaches its route's own validation.
    routerOptions: { maxParamLength: maxHeaderSize },
    clientErrorHandler: answerClientError,
    // Bad percent-encoding in the URL: the problem must not echo it.
    frameworkErrors: (error, request, reply) => {
      sendProblem(request, reply, error, { instance: false });
    },
    // The drain's 503 is the routes' own SHUTTING_DOWN problem.
    return503OnClosing: false,
  };
}
