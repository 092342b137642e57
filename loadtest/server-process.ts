import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

import { serveArgs } from "./compiled-server.js";

const PACKAGE_ROOT = fileURLToPath(new URL("../", import.meta.url));
const OUTPUT_TAIL_LINES = 40;

export interface ServerProcessOptions {
  adaptersDir: string;
  /** Extra `serve` flags without the dashes, e.g. { "max-queued": 8 }. */
  flags?: Record<string, string | number>;
  /** How long the model may take to load; default 120 s. */
  readyTimeoutMs?: number;
}

export interface ServerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A `sharelora serve` child process on a loopback port. */
export interface ServerProcess {
  readonly url: string;
  readonly pid: number;
  readonly args: readonly string[];
  /** Set once the process has exited; before stop() that means it crashed. */
  readonly exit: ServerExit | undefined;
  /** The last lines it wrote to stdout and stderr (its log level is warn). */
  outputTail(): string;
  /** SIGTERM (the server drains in-flight work), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<ServerExit>;
}

export class ServerStartError extends Error {
  readonly code = "SERVER_START_FAILED";
  override readonly name = "ServerStartError";
}

const running = new Set<ChildProcess>();

function killRunning(): void {
  for (const child of running) child.kill("SIGKILL");
}
process.once("exit", killRunning);

/** Kills every server child at once (for a runner interrupted by a signal). */
export function killAllServers(): void {
  killRunning();
}

async function freeLoopbackPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", resolve);
  });
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (typeof address !== "object" || address === null) throw new Error("no port was assigned");
  return address.port;
}

async function isReady(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(2000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}

/**
 * Picks a free loopback port and passes it with --port: at log level warn the server prints no
 * "Server listening" line, and info-level request logs would load the server more than the test.
 */
export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  try {
    return await startOnce(options, await freeLoopbackPort());
  } catch (error) {
    // Another process may have taken the port between the probe and the child's listen.
    if (!(error instanceof ServerStartError) || !/EADDRINUSE/.test(error.message)) throw error;
    return startOnce(options, await freeLoopbackPort());
  }
}

async function startOnce(options: ServerProcessOptions, port: number): Promise<ServerProcess> {
  const flags: Record<string, string | number> = {
    host: "127.0.0.1",
    port,
    adapters: options.adaptersDir,
    "log-level": "warn",
    // A loopback server needs no keys; this also ignores SHARELORA_API_KEYS in the environment.
    auth: "off",
    ...options.flags,
  };
  const args = serveArgs();
  for (const [name, value] of Object.entries(flags)) args.push(`--${name}`, String(value));
  const child = spawn(process.execPath, args, {
    cwd: PACKAGE_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  const tail: string[] = [];
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString("utf8").split("\n")) {
      if (line.trim() === "") continue;
      tail.push(line);
      if (tail.length > OUTPUT_TAIL_LINES) tail.shift();
    }
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  let exit: ServerExit | undefined;
  const exited = new Promise<ServerExit>((resolve) => {
    child.once("exit", (code, signal) => {
      running.delete(child);
      exit = { code, signal };
      resolve(exit);
    });
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 120_000);
  while (!(await isReady(url))) {
    if (exit !== undefined) {
      throw new ServerStartError(
        `the server exited (code ${exit.code}, signal ${exit.signal}) before it was ready:\n${tail.join("\n")}`,
      );
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      await exited;
      throw new ServerStartError(`the server was not ready in time:\n${tail.join("\n")}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  let stopping: Promise<ServerExit> | undefined;
  return {
    url,
    pid: child.pid!,
    args: ["sharelora", ...args.slice(1)],
    get exit() {
      return exit;
    },
    outputTail: () => tail.join("\n"),
    stop(graceMs = 15_000) {
      stopping ??= (async () => {
        if (exit !== undefined) return exit;
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
        try {
          return await exited;
        } finally {
          clearTimeout(timer);
        }
      })();
      return stopping;
    },
  };
}
