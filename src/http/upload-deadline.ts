import { Readable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { ProblemError } from "./problem-error.js";

export interface UploadLimits {
  /** The whole body must be in this long after the headers. */
  bodyTimeoutMs: number;
  /** Slowest rate accepted, in bytes per second (0: none)… */
  minBodyBytesPerS: number;
  /** …once the body is this far behind it. */
  bodyRateGraceMs: number;
}

/**
 * A request body passed through as it arrives, failing with a 408 problem once it misses its
 * deadline or falls behind the minimum rate. Its clock runs from the headers, but its timer only
 * once someone reads it: a body nobody reads (a refused request) is left to Node's requestTimeout.
 */
class DeadlinedBody extends Readable {
  readonly #source: Readable;
  readonly #limits: UploadLimits;
  readonly #startedAt = performance.now();
  #received = 0;
  #reading = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(source: Readable, limits: UploadLimits) {
    super();
    this.#source = source;
    this.#limits = limits;
  }

  override _read(): void {
    if (!this.#reading) {
      this.#reading = true;
      this.#source.on("data", this.#onData);
      this.#source.once("end", this.#onEnd);
      this.#source.once("error", this.#onError);
      this.#check();
    }
    this.#source.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#stop();
    callback(error);
  }

  readonly #onData = (chunk: Buffer) => {
    this.#received += chunk.length;
    if (!this.push(chunk)) this.#source.pause();
  };

  readonly #onEnd = () => {
    this.#stop();
    this.push(null);
  };

  readonly #onError = (error: Error) => this.destroy(error);

  /** When the body, at what it has sent so far, runs out of time. */
  #deadline(): number {
    const { bodyTimeoutMs, minBodyBytesPerS, bodyRateGraceMs } = this.#limits;
    const hard = this.#startedAt + bodyTimeoutMs;
    if (minBodyBytesPerS === 0) return hard;
    return Math.min(
      hard,
      this.#startedAt + bodyRateGraceMs + (this.#received / minBodyBytesPerS) * 1000,
    );
  }

  readonly #check = () => {
    const now = performance.now();
    const deadline = this.#deadline();
    if (now < deadline) {
      // Bytes only move the deadline later, so one timer at the current deadline is enough.
      this.#timer = setTimeout(this.#check, Math.ceil(deadline - now));
      this.#timer.unref();
      return;
    }
    const { bodyTimeoutMs, minBodyBytesPerS } = this.#limits;
    const detail =
      now - this.#startedAt >= bodyTimeoutMs
        ? `The request body did not arrive within ${bodyTimeoutMs} ms`
        : `The request body arrived slower than ${minBodyBytesPerS} bytes/s`;
    this.#stop();
    this.destroy(new ProblemError("REQUEST_TIMEOUT", detail));
  };

  #stop(): void {
    clearTimeout(this.#timer);
    this.#source.off("data", this.#onData);
    this.#source.off("end", this.#onEnd);
    this.#source.off("error", this.#onError);
    this.#source.pause();
  }
}

/**
 * Bounds every upload in time. A body that misses its deadline is answered 408 and its connection
 * closed, since the rest of it will never be read.
 */
export function registerUploadDeadline(app: FastifyInstance, limits: UploadLimits): void {
  app.addHook("preParsing", async (request, reply, payload) => {
    if (request.raw.complete) return payload;
    const body = new DeadlinedBody(payload, limits);
    body.once("error", (error) => {
      if (error instanceof ProblemError) void reply.header("connection", "close");
    });
    reply.raw.once("close", () => body.destroy());
    return body;
  });
}
