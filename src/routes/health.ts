import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { AppState } from "../http/app-state.js";
import { problem } from "../schemas/common.js";

const status = z.object({ status: z.string() });
const readiness = z.object({
  status: z.enum(["ready", "degraded"]),
  reasons: z
    .array(z.string())
    .optional()
    .describe("With `degraded`: what limits the service (stalled adapter reads, Redis away)"),
});

export const healthRoutes: FastifyPluginAsyncZod<{ state: AppState }> = async (app, { state }) => {
  app.get(
    "/health",
    {
      schema: {
        summary: "Liveness: the process is up",
        tags: ["health"],
        response: { 200: status },
      },
    },
    async () => ({ status: "ok" }),
  );

  app.get(
    "/ready",
    {
      schema: {
        summary: "Readiness: the model is loaded and the server is not shutting down",
        description:
          "200 `ready`; 200 `degraded` while the adapter store is impaired but the service still serves (a stalled read fails its own user only); 503 while loading, shutting down, restarting the inference worker, or when no uncached adapter can be read at all.",
        tags: ["health"],
        response: { 200: readiness, 503: problem },
      },
    },
    async () => {
      const runtime = state.require();
      const reasons = state.storeDegradation(runtime);
      return reasons.length === 0
        ? { status: "ready" as const }
        : { status: "degraded" as const, reasons };
    },
  );
};
