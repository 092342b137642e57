import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "vitest";

const REDIS_SERVER = "redis-server";

function redisServerOnPath(): boolean {
  return spawnSync(REDIS_SERVER, ["--version"], { stdio: "ignore" }).status === 0;
}

export const redisServerAvailable = redisServerOnPath();

/**
 * describe() when redis-server is on PATH. Without it, CI fails with the reason, and anywhere else
 * the block is skipped and says why.
 */
export function describeWithRedis(name: string, body: () => void): void {
  if (redisServerAvailable) {
    describe(name, body);
    return;
  }
  const why = `${REDIS_SERVER} is not on PATH (install it: apt-get install -y redis-server)`;
  if (process.env["CI"]) {
    describe(name, () => {
      it("needs redis-server", () => {
        throw new Error(`${why}; .ci/run installs it`);
      });
    });
    return;
  }
  process.stderr.write(`skipping "${name}": ${why}\n`);
  describe.skip(name, body);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface RedisServerOptions {
  /** Append-only file with an fsync per write, so a SIGKILL loses nothing; default off. */
  durable?: boolean;
}

/** A redis-server process of a test's own, on a free loopback port, with its data in a temp dir. */
export class RedisServer {
  readonly port: number;
  readonly dir: string;
  readonly durable: boolean;
  #process: ChildProcess | undefined;

  private constructor(port: number, dir: string, durable: boolean) {
    this.port = port;
    this.dir = dir;
    this.durable = durable;
  }

  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const dir = await mkdtemp(join(tmpdir(), "sharelora-redis-"));
    const server = new RedisServer(await freePort(), dir, options.durable ?? false);
    await server.restart();
    return server;
  }

  url(db = 0, prefix?: string): string {
    const query = prefix === undefined ? "" : `?prefix=${encodeURIComponent(prefix)}`;
    return `redis://127.0.0.1:${this.port}/${db}${query}`;
  }

  get running(): boolean {
    return this.#process !== undefined;
  }

  /** Starts the server (again, on the same port and data dir) and waits until it accepts commands. */
  async restart(): Promise<void> {
    if (this.#process !== undefined) throw new Error("redis-server is already running");
    const persistence = this.durable
      ? ["--appendonly", "yes", "--appendfsync", "always"]
      : ["--appendonly", "no"];
    const child = spawn(
      REDIS_SERVER,
      [
        "--port",
        String(this.port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        ...persistence,
        "--dir",
        this.dir,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    this.#process = child;
    let output = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error("redis-server did not start in 10 s")), 10_000);
      const fail = (error: Error) => {
        clearTimeout(timer);
        this.#process = undefined;
        child.kill("SIGKILL");
        reject(new Error(`${error.message}\n${output}`));
      };
      child.once("error", fail);
      child.once("exit", (code) => fail(new Error(`redis-server exited with ${code}`)));
      child.stdout!.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes("Ready to accept connections")) {
          clearTimeout(timer);
          child.removeAllListeners("exit");
          child.removeAllListeners("error");
          resolve();
        }
      });
    });
    child.stdout!.resume();
    child.stderr!.resume();
  }

  /** SIGKILL: no shutdown, no save; what a crash or a lost machine looks like to clients. */
  async kill(): Promise<void> {
    const child = this.#process;
    if (child === undefined) return;
    this.#process = undefined;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
  }

  async stop(): Promise<void> {
    await this.kill();
    await rm(this.dir, { recursive: true, force: true });
  }
}
