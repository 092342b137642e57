import type { FastifyInstance, FastifyRequest } from "fastify";
import { ProblemError } from "./problem-error.js";
import { queueFullProblem } from "./problem-map.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** The route computes features through the backbone queue (and is shed while it is full). */
    backbone?: boolean;
  }
}

export interface ConcurrencyLimit {
  /** Requests holding a permit right now. */
  readonly inFlight: number;
  readonly max: number;
}

/** Route config of the routes that feed the backbone queue (shed while it is full). */
export const FEEDS_BACKBONE = { backbone: true } as const;

/** The trainers' own paths, outside /v1. */
const TRAINER_ROUTES: ReadonlySet<string> = new Set(["/get_reward", "/classify"]);

/** Only API work takes a permit: probes, metrics and docs must answer under any load. */
export function isLimitedRoute(route: string | undefined): boolean {
  if (route === undefined) return false;
  return route.startsWith("/v1/") || TRAINER_ROUTES.has(route);
}

/**
 * A semaphore over requests in flight, like TEI's: past `max`, a request is answered 429 with
 * Retry-After at once instead of queueing. The permit is taken once the body is in and valid, so
 * a client that sends its body slowly holds none, and released when the response is finished or
 * the connection closes, whichever comes first. A full semaphore, and for routes that feed the
 * backbone a full queue, are answered 429 before the body is read too: under overload, parsing
 * and validating requests only to refuse them took the event loop's whole time.
 */
export function registerConcurrencyLimit(
  app: FastifyInstance,
  options: {
    max: number;
    retryAfterSeconds?: number;
    /** The backbone queue, once the model is loaded. */
    backbone?: () => { queueFull(): boolean; readonly maxQueued: number } | undefined;
  },
): ConcurrencyLimit {
  const { max } = options;
  if (!Number.isSafeInteger(max) || max < 1) {
    throw new TypeError(`expected max to be a positive integer, got ${max}`);
  }
  const retryAfter = options.retryAfterSeconds ?? 1;
  const holders = new WeakSet<FastifyRequest>();
  const state = { inFlight: 0, max };
  const overloaded = () =>
    new ProblemError(
      "OVERLOADED",
      `Too many requests in flight (${max}); retry after ${retryAfter} s`,
      { extensions: { retry_after_s: retryAfter } },
    );
  app.addHook("onRequest", async (request) => {
    if (!isLimitedRoute(request.routeOptions.url)) return;
    if (state.inFlight >= max) throw overloaded();
    if (request.routeOptions.config.backbone) {
      const queue = options.backbone?.();
      if (queue?.queueFull()) throw queueFullProblem(queue.maxQueued);
    }
  });
  app.addHook("preHandler", async (request, reply) => {
    if (!isLimitedRoute(request.routeOptions.url)) return;
    if (state.inFlight >= max) throw overloaded();
    // A connection that closed during validation would never release its permit.
    if (reply.raw.destroyed) return;
    state.inFlight += 1;
    holders.add(request);
    const release = () => {
      if (!holders.delete(request)) return;
      state.inFlight -= 1;
    };
    reply.raw.once("finish", release);
    reply.raw.once("close", release);
  });
  return state;
}
