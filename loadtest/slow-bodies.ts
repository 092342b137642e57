import { connect, type Socket } from "node:net";
import { resolveTarget } from "./target.js";

/** No run may open more connections than this, whatever it asks for. */
export const MAX_SLOW_CONNECTIONS = 4096;
/** Every slow connection is destroyed after this long, whatever the caller does. */
export const MAX_SLOW_LIFETIME_MS = 10 * 60_000;

export interface SlowBodyOptions {
  /** A loopback base URL: slow connections are never sent anywhere else. */
  url: string;
  count: number;
  path?: string;
  /** The Content-Length each request declares; it is never reached. Default 65,536. */
  declaredBytes?: number;
  /** Each connection sends one byte of its body per interval. Default 1000 ms. */
  intervalMs?: number;
  /** Open a new connection for each one the server closes, to keep `count` open. */
  reopen?: boolean;
  headers?: Record<string, string>;
  /** Hard bound on the whole run; default and cap MAX_SLOW_LIFETIME_MS. */
  lifetimeMs?: number;
}

export interface SlowBodyStats {
  opened: number;
  /** Connections the server closed, by the status it answered first ("none": closed silently). */
  closedByServer: Record<string, number>;
  /** Milliseconds from connect to the server's close, for every connection it closed. */
  closedAfterMs: number[];
  errors: number;
}

const BODY_PREFIX = '{"items":[{"prompt":"p","response":"';

/**
 * Connections that send their headers at once and then their body one byte per interval, the way
 * a slow or malicious client holds a request open. Bounded in count and lifetime, loopback only;
 * `close()` ends them all.
 */
export class SlowBodies {
  readonly #options: Required<Omit<SlowBodyOptions, "headers">> & {
    headers: Record<string, string>;
  };
  readonly #host: string;
  readonly #port: number;
  readonly #sockets = new Map<Socket, { sent: number; startedAt: number }>();
  readonly #stats: SlowBodyStats = { opened: 0, closedByServer: {}, closedAfterMs: [], errors: 0 };
  readonly #ticker: NodeJS.Timeout;
  readonly #lifetime: NodeJS.Timeout;
  #closed = false;

  private constructor(options: SlowBodyOptions) {
    if (!Number.isSafeInteger(options.count) || options.count < 0) {
      throw new TypeError(`count: expected a non-negative integer, got ${options.count}`);
    }
    if (options.count > MAX_SLOW_CONNECTIONS) {
      throw new RangeError(`count: at most ${MAX_SLOW_CONNECTIONS} slow connections`);
    }
    const base = new URL(resolveTarget(options.url, false));
    if (base.protocol !== "http:") throw new TypeError("slow connections speak plain http only");
    this.#host = base.hostname.replace(/^\[|\]$/g, "");
    this.#port = Number(base.port || 80);
    this.#options = {
      url: options.url,
      count: options.count,
      path: `${base.pathname.replace(/\/+$/, "")}${options.path ?? "/v1/score"}`,
      declaredBytes: options.declaredBytes ?? 65_536,
      intervalMs: options.intervalMs ?? 1000,
      reopen: options.reopen ?? false,
      headers: options.headers ?? {},
      lifetimeMs: Math.min(options.lifetimeMs ?? MAX_SLOW_LIFETIME_MS, MAX_SLOW_LIFETIME_MS),
    };
    this.#ticker = setInterval(() => this.#tick(), this.#options.intervalMs);
    this.#lifetime = setTimeout(() => this.close(), this.#options.lifetimeMs);
    this.#lifetime.unref();
  }

  /** Resolves once every connection is established and has sent its headers. */
  static async open(options: SlowBodyOptions): Promise<SlowBodies> {
    const bodies = new SlowBodies(options);
    const opening: Promise<void>[] = [];
    for (let i = 0; i < options.count; i++) opening.push(bodies.#connect());
    await Promise.all(opening);
    return bodies;
  }

  /** Connections open right now. */
  get open(): number {
    return this.#sockets.size;
  }

  get stats(): SlowBodyStats {
    return structuredClone(this.#stats);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#ticker);
    clearTimeout(this.#lifetime);
    for (const socket of this.#sockets.keys()) socket.destroy();
    this.#sockets.clear();
  }

  #connect(): Promise<void> {
    return new Promise((resolve) => {
      const socket = connect({ host: this.#host, port: this.#port });
      const state = { sent: 0, startedAt: performance.now() };
      let firstLine: string | undefined;
      let received = "";
      socket.setNoDelay(true);
      socket.on("data", (chunk) => {
        if (firstLine !== undefined) return;
        received += chunk.toString("latin1");
        const end = received.indexOf("\r\n");
        if (end >= 0) firstLine = received.slice(0, end);
      });
      socket.on("error", () => {
        this.#stats.errors += 1;
      });
      socket.once("connect", () => {
        this.#stats.opened += 1;
        this.#sockets.set(socket, state);
        socket.write(this.#head(), () => resolve());
      });
      socket.once("close", () => {
        resolve();
        if (!this.#sockets.delete(socket) || this.#closed) return;
        const status = /^HTTP\/1\.[01] (\d{3})/.exec(firstLine ?? "")?.[1] ?? "none";
        this.#stats.closedByServer[status] = (this.#stats.closedByServer[status] ?? 0) + 1;
        this.#stats.closedAfterMs.push(performance.now() - state.startedAt);
        if (this.#options.reopen) void this.#connect();
      });
    });
  }

  #head(): string {
    const headers: Record<string, string> = {
      host: `${this.#host}:${this.#port}`,
      "content-type": "application/json",
      "content-length": String(this.#options.declaredBytes),
      ...this.#options.headers,
    };
    const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
    return `POST ${this.#options.path} HTTP/1.1\r\n${lines.join("\r\n")}\r\n\r\n`;
  }

  #tick(): void {
    for (const [socket, state] of this.#sockets) {
      // One byte short of the declared length: the body never completes.
      if (state.sent >= this.#options.declaredBytes - 1 || !socket.writable) continue;
      socket.write(state.sent < BODY_PREFIX.length ? BODY_PREFIX[state.sent]! : "a");
      state.sent += 1;
    }
  }
}
