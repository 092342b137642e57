import { setMaxListeners } from "node:events";
import type { FastifyReply, FastifyRequest } from "fastify";
import { ProblemError } from "./problem-error.js";

/**
 * Aborts when the client goes away (its queued texts are then dropped from the batch) or when the
 * request outlives its time limit.
 */
export function requestSignal(
  request: FastifyRequest,
  reply: FastifyReply,
  timeoutMs: number,
): AbortSignal {
  const controller = new AbortController();
  // Every text of the request waits on this signal: one listener each.
  setMaxListeners(0, controller.signal);
  const onClose = () => {
    if (!reply.raw.writableEnded) {
      controller.abort(new ProblemError("CANCELLED", "The client closed the request"));
    }
  };
  request.raw.socket?.once("close", onClose);
  reply.raw.once("close", onClose);
  const timer = setTimeout(
    () =>
      controller.abort(new ProblemError("TIMEOUT", `The request took longer than ${timeoutMs} ms`)),
    timeoutMs,
  );
  timer.unref();
  reply.raw.once("finish", () => {
    clearTimeout(timer);
    request.raw.socket?.off("close", onClose);
  });
  return controller.signal;
}

/** Rejects as soon as the signal aborts, with the signal's reason. */
export function raceSignal<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
