import type { FastifyRequest } from "fastify";

/**
 * Fastify logs every request's URL at info level, and /v1/users/:user URLs carry user ids: the
 * request log names the route pattern instead, and never the query string or the body.
 */
export function requestLogValue(request: FastifyRequest): Record<string, unknown> {
  return {
    method: request.method,
    route: request.routeOptions?.url ?? "(unmatched)",
    remoteAddress: request.ip,
  };
}

/** Adds the request serializer to fastify's `logger` option (false stays false). */
export function withRequestLogSerializer(logger: boolean | object): boolean | object {
  if (logger === false) return false;
  const options = logger === true ? {} : (logger as { serializers?: object });
  return { ...options, serializers: { ...options.serializers, req: requestLogValue } };
}
