import { readFileSync } from "node:fs";
import { join } from "node:path";
import pino from "pino";
import { type App, buildApp } from "./app.js";
import { type Config, ConfigError, flagName, PACKAGE_ROOT } from "./config.js";
import { AppState } from "./http/app-state.js";
import { metricsAuthorizer, resolveAuth } from "./http/auth.js";
import { type MetricsServer, startMetricsServer } from "./metrics/metrics-server.js";
import { createRuntime, type Runtime } from "./runtime.js";

export const VERSION: string = JSON.parse(
  readFileSync(join(PACKAGE_ROOT, "package.json"), "utf8"),
).version;

export interface RunningServer {
  app: App;
  state: AppState;
  runtime: Runtime;
  url: string;
  /** GET /metrics on its own port, when metricsPort is set. */
  metricsUrl: string | undefined;
  /** Stops accepting connections, drains in-flight work, then releases the model. */
  close(): Promise<void>;
}

/**
 * Loads the model, opens the adapter store and runs one batch through the backbone and the head,
 * then listens: a configuration that cannot serve fails (as a ConfigError naming the setting)
 * before anything listens, and a server that listens is ready.
 */
export async function startServer(
  config: Config,
  options: { logger?: boolean | object } = {},
): Promise<RunningServer> {
  const state = new AppState(VERSION);
  const auth = await resolveAuth(config);
  const app = await buildApp({
    config,
    state,
    auth,
    logger: options.logger ?? { level: config.logLevel },
  });
  let runtime: Runtime;
  try {
    runtime = await createRuntime(config, app.log, state.metrics.hooks());
  } catch (error) {
    await app.close();
    throw error;
  }
  const loaded = runtime;
  state.runtime = loaded;
  state.metrics.attach({
    features: loaded.engine.cache,
    adapters: loaded.adapters,
    countAdapters: () => loaded.store.count(),
  });
  let metricsServer: MetricsServer | undefined;
  try {
    await listening("port", config.port, app.listen({ host: config.host, port: config.port }));
    if (config.metricsPort !== 0) {
      const authorize = metricsAuthorizer(auth);
      metricsServer = await listening(
        "metricsPort",
        config.metricsPort,
        startMetricsServer({
          host: config.host,
          port: config.metricsPort,
          metrics: state.metrics,
          ...(authorize ? { authorize } : {}),
        }),
      );
    }
  } catch (error) {
    await app.close();
    await runtime.close();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;
  app.log.info(
    {
      url,
      metricsUrl: metricsServer?.url,
      provider: runtime.backend.provider,
      model: runtime.modelId,
      head: runtime.head.hash,
    },
    "ready",
  );
  let closing: Promise<void> | undefined;
  return {
    app,
    state,
    runtime,
    url,
    metricsUrl: metricsServer?.url,
    close() {
      closing ??= (async () => {
        state.shuttingDown = true;
        // A keep-alive connection whose request finishes during the drain turns idle, and would
        // hold close() until its keep-alive timeout: such connections are closed as they idle.
        const sweep = setInterval(() => app.server.closeIdleConnections(), 50);
        try {
          await app.close();
        } finally {
          clearInterval(sweep);
        }
        await runtime.close();
        await metricsServer?.close();
      })();
      return closing;
    },
  };
}

/** SIGTERM / SIGINT: /ready turns 503 at once, in-flight work drains, then the process exits 0. */
export function handleSignals(
  starting: RunningServer | Promise<RunningServer>,
  graceMs = 30_000,
): void {
  // Installed before the model loads, so a signal during startup is not the default kill.
  const stop = async (signal: NodeJS.Signals) => {
    let server: RunningServer;
    try {
      server = await starting;
    } catch {
      return; // startup failed: its own error path reports it and exits
    }
    server.app.log.info({ signal }, "shutting down");
    server.state.shuttingDown = true;
    let exiting = false;
    const exit = (code: number) => {
      if (exiting) return;
      exiting = true;
      exitProcess(server, signal, code);
    };
    const timer = setTimeout(() => {
      server.app.log.error("shutdown took too long; exiting");
      exit(1);
    }, graceMs);
    timer.unref();
    server.close().then(
      () => exit(0),
      (error) => {
        server.app.log.error({ err: error }, "shutdown failed");
        exit(1);
      },
    );
  };
  process.once("SIGTERM", () => void stop("SIGTERM"));
  process.once("SIGINT", () => void stop("SIGINT"));
}

/** A port that cannot be had is the setting's fault: EADDRINUSE and friends name it. */
async function listening<T>(setting: "port" | "metricsPort", port: number, started: Promise<T>) {
  try {
    return await started;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EADDRINUSE" && code !== "EACCES" && code !== "EADDRNOTAVAIL") throw error;
    const why = code === "EADDRINUSE" ? "the port is in use" : (error as Error).message;
    throw new ConfigError(`${flagName(setting)} ${port}: ${why}`, { cause: error });
  }
}

/**
 * process.exit joins every worker thread, and a reader thread blocked in a read of a stalled disk
 * cannot be joined until that read returns: with one in a read, the process ends by the signal
 * it was sent instead (its default action, which waits for no thread).
 */
function exitProcess(server: RunningServer, signal: NodeJS.Signals, code: number): void {
  const threadsInReads = server.runtime.store.readStalls?.().threadsInReads ?? 0;
  if (threadsInReads === 0) process.exit(code);
  server.app.log.warn(
    { signal, code, threadsInReads },
    `${threadsInReads} adapter reader thread(s) are blocked in reads that cannot be interrupted; ending the process by ${signal} rather than waiting for them`,
  );
  const end = () => {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
    // Should the signal not end it (a listener added meanwhile), nothing else will wait.
    setTimeout(() => process.kill(process.pid, "SIGKILL"), 1000);
  };
  endLogs(server.app.log, end);
}

/**
 * The logger writes asynchronously and flushes on "exit", which a signal never emits: its stream
 * is ended (every line written) before `done`, or after 500 ms whatever it says.
 */
function endLogs(log: unknown, done: () => void): void {
  let called = false;
  const once = () => {
    if (called) return;
    called = true;
    clearTimeout(fallback);
    done();
  };
  const fallback = setTimeout(once, 500);
  const stream = (log as Record<symbol, unknown>)[pino.symbols.streamSym] as
    | { end?: () => void; once?: (event: string, listener: () => void) => void }
    | undefined;
  if (typeof stream?.end !== "function" || typeof stream.once !== "function") {
    once();
    return;
  }
  stream.once("close", once);
  stream.once("error", once);
  try {
    stream.end();
  } catch {
    once();
  }
}
