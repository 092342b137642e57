import { type ChildProcess, execFile, spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { promisify } from "node:util";
import { serveArgs } from "../loadtest/compiled-server.js";
import { PACKAGE_ROOT } from "../src/config.js";
import { JsonClient } from "./http-client.js";
import { parsePrometheus } from "./prometheus.js";

export interface ServerFlags {
  adapters: string;
  [flag: string]: string | number;
}

export interface MemoryReading {
  rssBytes: number;
  /** Peak RSS since start, where the platform reports it. */
  peakRssBytes: number | undefined;
}

const READY_TIMEOUT_MS = 180_000;
const STOP_TIMEOUT_MS = 30_000;

/**
 * The real server in a child process (`node dist/cli.js serve`, compiled first), so the load
 * generator does not share its event loop. Flags are camelCase setting names.
 */
export class ChildServer {
  readonly url: string;
  readonly client: JsonClient;
  readonly #child: ChildProcess;
  readonly #stderr: string[];
  #exited: Promise<number | null>;

  private constructor(url: string, child: ChildProcess, stderr: string[], concurrency: number) {
    this.url = url;
    this.#child = child;
    this.#stderr = stderr;
    this.client = new JsonClient(url, concurrency);
    this.#exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  }

  get pid(): number {
    return this.#child.pid!;
  }

  static async start(flags: ServerFlags, maxConcurrency = 256): Promise<ChildServer> {
    const port = await freePort();
    const args = [...serveArgs(), "--host", "127.0.0.1"];
    args.push("--port", String(port));
    for (const [name, value] of Object.entries({ logLevel: "warn", ...flags })) {
      args.push(`--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, String(value));
    }
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([key]) => !key.startsWith("SHARELORA_")),
    );
    const child = spawn(process.execPath, args, {
      cwd: PACKAGE_ROOT,
      env,
      stdio: ["ignore", "ignore", "pipe"],
    });
    const stderr: string[] = [];
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
      stderr.push(chunk);
      if (stderr.length > 50) stderr.shift();
    });
    const server = new ChildServer(`http://127.0.0.1:${port}`, child, stderr, maxConcurrency);
    await server.#waitReady();
    return server;
  }

  async info(): Promise<{ provider: string; head: { hash: string; k: number } }> {
    const response = await this.client.get("/v1/info");
    if (response.status !== 200) throw new Error(`GET /v1/info answered ${response.status}`);
    return response.body as { provider: string; head: { hash: string; k: number } };
  }

  /** GET /metrics, parsed; undefined when the server does not serve it. */
  async metrics(): Promise<Map<string, number> | undefined> {
    const response = await this.client.get("/metrics");
    if (response.status !== 200 || typeof response.body !== "string") return undefined;
    return parsePrometheus(response.body);
  }

  async memory(): Promise<MemoryReading> {
    return readMemory(this.pid);
  }

  /** SIGTERM, then waits for the drain and exit. */
  async stop(): Promise<void> {
    this.client.close();
    if (this.#child.exitCode !== null) return;
    this.#child.kill("SIGTERM");
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), STOP_TIMEOUT_MS);
    await this.#exited;
    clearTimeout(timer);
  }

  async #waitReady(): Promise<void> {
    const started = performance.now();
    let exitCode: number | null | undefined;
    void this.#exited.then((code) => {
      exitCode = code;
    });
    while (performance.now() - started < READY_TIMEOUT_MS) {
      if (exitCode !== undefined) {
        throw new Error(
          `The server exited (${exitCode}) before it was ready:\n${this.#stderr.join("")}`,
        );
      }
      try {
        if ((await this.client.get("/ready")).status === 200) return;
      } catch {}
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await this.stop();
    throw new Error(`The server was not ready after ${READY_TIMEOUT_MS / 1000} s`);
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** VmRSS and VmHWM from /proc on Linux; `ps` elsewhere (no peak there). */
export async function readMemory(pid: number): Promise<MemoryReading> {
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const kib = (name: string) => {
      const match = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status);
      return match ? Number(match[1]) * 1024 : undefined;
    };
    const rss = kib("VmRSS");
    if (rss !== undefined) return { rssBytes: rss, peakRssBytes: kib("VmHWM") };
  } catch {}
  const { stdout } = await promisify(execFile)("ps", ["-o", "rss=", "-p", String(pid)]);
  return { rssBytes: Number(stdout.trim()) * 1024, peakRssBytes: undefined };
}
