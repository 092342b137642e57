import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type App, AppState, buildApp } from "./app.js";
import { type Config, PACKAGE_ROOT } from "./config.js";
import { createRuntime, type Runtime } from "./runtime.js";

export const VERSION: string = JSON.parse(
  readFileSync(join(PACKAGE_ROOT, "package.json"), "utf8"),
).version;

export interface RunningServer {
  app: App;
  state: AppState;
  runtime: Runtime;
  url: string;
  /** Stops accepting connections, drains in-flight work, then releases the model. */
  close(): Promise<void>;
}

/** Listens first (so /health and /ready answer while the model loads), then loads the model. */
export async function startServer(
  config: Config,
  options: { logger?: boolean | object } = {},
): Promise<RunningServer> {
  const state = new AppState(VERSION);
  const app = await buildApp({
    config,
    state,
    logger: options.logger ?? { level: config.logLevel },
  });
  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  let runtime: Runtime;
  try {
    runtime = await createRuntime(config, app.log);
  } catch (error) {
    await app.close();
    throw error;
  }
  state.runtime = runtime;
  app.log.info(
    { provider: runtime.backend.provider, model: runtime.modelId, head: runtime.head.hash },
    "ready",
  );
  let closing: Promise<void> | undefined;
  return {
    app,
    state,
    runtime,
    url: `http://${host}:${port}`,
    close() {
      closing ??= (async () => {
        state.shuttingDown = true;
        await app.close();
        await runtime.close();
      })();
      return closing;
    },
  };
}

/** SIGTERM / SIGINT: /ready turns 503 at once, in-flight work drains, then the process exits 0. */
export function handleSignals(server: RunningServer, graceMs = 30_000): void {
  const stop = (signal: string) => {
    server.app.log.info({ signal }, "shutting down");
    server.state.shuttingDown = true;
    const timer = setTimeout(() => {
      server.app.log.error("shutdown took too long; exiting");
      process.exit(1);
    }, graceMs);
    timer.unref();
    server.close().then(
      () => process.exit(0),
      (error) => {
        server.app.log.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
}
