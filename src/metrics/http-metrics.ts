import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { ServiceMetrics } from "./service-metrics.js";

export const METRICS_EXAMPLE =
  '# HELP sharelora_http_requests_total HTTP requests answered, by route pattern and status\n# TYPE sharelora_http_requests_total counter\nsharelora_http_requests_total{method="POST",route="/v1/score",status="200"} 42\n';

/** Counts and times every request by route pattern (never by URL), including rejected ones. */
export function registerRequestMetrics(app: FastifyInstance, metrics: ServiceMetrics): void {
  app.addHook("onRequest", async (request, reply) => {
    const started = performance.now();
    reply.raw.once("close", () => {
      const status = reply.raw.writableFinished ? reply.statusCode : 499;
      metrics.observeRequest(
        request.method,
        request.routeOptions.url ?? "(unmatched)",
        status,
        (performance.now() - started) / 1000,
      );
    });
  });
}

/** GET /metrics in the Prometheus text format. */
export function registerMetricsRoute(app: FastifyInstance, metrics: ServiceMetrics): void {
  app.withTypeProvider<ZodTypeProvider>().get(
    "/metrics",
    {
      schema: {
        summary: "Prometheus metrics (text exposition format)",
        tags: ["operations"],
        produces: ["text/plain"],
        response: {
          200: z
            .string()
            .describe("Prometheus text exposition format, version 0.0.4")
            .meta({ examples: [METRICS_EXAMPLE] }),
        },
      },
    },
    async (_request, reply) => {
      const text = await metrics.render();
      return reply
        .type(metrics.contentType)
        .serializer((payload: unknown) => payload as string)
        .send(text);
    },
  );
}
