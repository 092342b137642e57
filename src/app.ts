import Fastify, { type FastifyInstance } from "fastify";
import {
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from "fastify-type-provider-zod";
import type { Config } from "./config.js";
import type { AppState } from "./http/app-state.js";
import { type AuthSetup, resolveAuth } from "./http/auth.js";
import { registerJsonParser } from "./http/json-parser.js";
import { registerOperations } from "./http/operations.js";
import { sendProblem } from "./http/problem.js";
import { ProblemError } from "./http/problem-error.js";
import { withRequestLogSerializer } from "./http/request-log.js";
import { serverOptions } from "./http/server-options.js";
import { fitRoutes } from "./routes/fit.js";
import { healthRoutes } from "./routes/health.js";
import { infoRoutes } from "./routes/info.js";
import { queryRoutes } from "./routes/queries.js";
import { scoringRoutes } from "./routes/scoring.js";
import { shapedRoutes } from "./routes/shaped.js";
import { trainerRoutes } from "./routes/trainers.js";
import { userRoutes } from "./routes/users.js";

export type App = FastifyInstance;

export interface AppOptions {
  config: Config;
  state: AppState;
  logger?: boolean | object;
  /** Resolved API keys; default: resolved from config. */
  auth?: AuthSetup;
}

/** Builds the HTTP app; it never listens (server.ts does), so tests can inject or listen as they like. */
export async function buildApp(options: AppOptions): Promise<App> {
  const { config, state } = options;
  const app = Fastify({
    logger: withRequestLogSerializer(options.logger ?? false),
    bodyLimit: config.bodyLimitBytes,
    requestIdHeader: "x-request-id",
    genReqId: () => crypto.randomUUID(),
    ...serverOptions(config),
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerJsonParser(app);
  app.setErrorHandler((error, request, reply) => sendProblem(request, reply, error));
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      request,
      reply,
      new ProblemError(
        "NOT_FOUND",
        `No route for ${request.method} at this path (instance); the routes are in /openapi.json`,
      ),
    ),
  );
  app.addHook("onSend", async (request, reply) => {
    void reply.header("x-request-id", request.id);
  });
  await registerOperations(app, {
    config,
    state,
    auth: options.auth ?? (await resolveAuth(config)),
  });

  await app.register(healthRoutes, { state });
  await app.register(infoRoutes, { state, config });
  await app.register(scoringRoutes, { state, config });
  await app.register(shapedRoutes, { state, config });
  await app.register(userRoutes, { state });
  await app.register(fitRoutes, { state, config });
  await app.register(queryRoutes, { state, config });
  await app.register(trainerRoutes, { state, config });
  return app;
}
