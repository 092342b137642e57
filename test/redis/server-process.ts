import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { freePort } from "./redis-server.js";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** `sharelora serve` in a process of its own, as a replica runs in production. */
export class ServerProcess {
  readonly port: number;
  readonly url: string;
  readonly #child: ChildProcess;
  #output = "";
  #exited: Promise<number | null>;

  private constructor(port: number, child: ChildProcess) {
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
    this.#child = child;
    child.stdout!.on("data", (chunk: Buffer) => this.#remember(chunk));
    child.stderr!.on("data", (chunk: Buffer) => this.#remember(chunk));
    this.#exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  }

  /** Starts `node --import tsx src/cli.ts serve` with the given flags; resolves once /ready is 200. */
  static async start(flags: readonly string[], timeoutMs = 60_000): Promise<ServerProcess> {
    const port = await freePort();
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !name.startsWith("SHARELORA_")),
    );
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "src/cli.ts",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        String(port),
        "--device",
        "cpu",
        "--log-level",
        "warn",
        ...flags,
      ],
      { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] },
    );
    const server = new ServerProcess(port, child);
    await server.#waitReady(timeoutMs);
    return server;
  }

  get output(): string {
    return this.#output;
  }

  async json(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    const init: RequestInit =
      body === undefined
        ? { method }
        : body instanceof Uint8Array
          ? {
              method,
              headers: { "content-type": "application/octet-stream" },
              body: body as Uint8Array<ArrayBuffer>,
            }
          : { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
    const response = await fetch(this.url + path, init);
    const text = await response.text();
    return { status: response.status, body: text === "" ? null : JSON.parse(text) };
  }

  /** SIGTERM, then SIGKILL if it has not exited within 10 s. */
  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#child.kill("SIGTERM");
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), 10_000);
    await this.#exited;
    clearTimeout(timer);
  }

  async #waitReady(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    let exited = false;
    void this.#exited.then(() => {
      exited = true;
    });
    while (performance.now() < deadline && !exited) {
      try {
        if ((await fetch(`${this.url}/ready`)).status === 200) return;
      } catch {
        // Not listening yet.
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await this.stop();
    throw new Error(
      `sharelora serve on port ${this.port} did not become ready${exited ? " (it exited)" : ""}:\n${this.#output}`,
    );
  }

  #remember(chunk: Buffer): void {
    this.#output = (this.#output + chunk.toString()).slice(-20_000);
  }
}
