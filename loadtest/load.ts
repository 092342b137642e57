import autocannon from "autocannon";
import type { RequestSource } from "./request.js";
import type { Target } from "./target.js";

export interface LoadOptions {
  /** The server (a path prefix in its URL is kept) and the headers every request carries. */
  target: Target;
  connections: number;
  /** Upper bound on the run's length, in seconds. */
  durationS: number;
  /** Upper bound on the requests sent; at least `connections`. */
  maxRequests: number;
  source: RequestSource;
  /** A response slower than this counts as a timeout; default 10 s. */
  timeoutS?: number;
}

function positiveInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new TypeError(`${name}: expected a positive integer, got ${value}`);
  }
}

/**
 * One autocannon run, bounded both by `durationS` and by `maxRequests` (autocannon's
 * maxOverallRequests; `amount` would override the duration). A watchdog stops it should
 * in-flight requests hold it past its duration plus the timeout.
 */
export function runLoad(options: LoadOptions): Promise<autocannon.Result> {
  positiveInteger("connections", options.connections);
  positiveInteger("maxRequests", options.maxRequests);
  if (!(options.durationS > 0)) {
    throw new TypeError(`durationS: expected a positive number, got ${options.durationS}`);
  }
  const timeoutS = options.timeoutS ?? 10;
  const base = new URL(options.target.url);
  const prefix = base.pathname.replace(/\/+$/, "");
  const source = options.source;
  return new Promise((resolve, reject) => {
    let watchdog: NodeJS.Timeout | undefined;
    const instance = autocannon(
      {
        url: base.origin,
        connections: options.connections,
        duration: options.durationS,
        maxOverallRequests: Math.max(options.maxRequests, options.connections),
        timeout: timeoutS,
        headers: { ...options.target.headers, "content-type": "application/json" },
        requests: [
          {
            setupRequest(request) {
              const next = source();
              return {
                ...request,
                method: next.method,
                path: prefix + next.path,
                body: next.body ?? "",
              };
            },
          },
        ],
      },
      (error, result) => {
        clearTimeout(watchdog);
        if (error) reject(error instanceof Error ? error : new Error(String(error)));
        else resolve(result);
      },
    );
    watchdog = setTimeout(() => instance.stop(), (options.durationS + timeoutS + 5) * 1000);
    watchdog.unref();
  });
}
