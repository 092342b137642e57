import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { AppState } from "../http/app-state.js";
import { problem } from "../schemas/common.js";

const status = z.object({ status: z.string() });

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
        tags: ["health"],
        response: { 200: status, 503: problem },
      },
    },
    async () => {
      state.require();
      return { status: "ready" };
    },
  );
};
