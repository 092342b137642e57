import type { RedisOptions } from "ioredis";

export interface RedisConnectionTimings {
  /** Longest wait for a TCP connection and the server's ready check. */
  connectTimeoutMs: number;
  /** Longest wait for one command's reply. */
  commandTimeoutMs: number;
  /** Reconnection attempts back off up to this delay, and go on forever. */
  maxReconnectDelayMs: number;
}

export const DEFAULT_REDIS_TIMINGS: RedisConnectionTimings = Object.freeze({
  connectTimeoutMs: 2000,
  commandTimeoutMs: 2000,
  maxReconnectDelayMs: 1000,
});

/**
 * Commands fail at once while Redis is unreachable, instead of waiting in ioredis's queues for a
 * reconnection: a request is better answered with a 503 now than held until its timeout. Commands
 * in flight when a connection drops fail too, never resent, because a write may have been applied.
 */
export function failFastOptions(timings: RedisConnectionTimings): RedisOptions {
  for (const [name, value] of Object.entries(timings)) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new TypeError(`expected ${name} to be a positive integer, got ${String(value)}`);
    }
  }
  return {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    autoResubscribe: false,
    connectTimeout: timings.connectTimeoutMs,
    commandTimeout: timings.commandTimeoutMs,
    retryStrategy: (attempt) =>
      Math.min(25 * 2 ** Math.min(attempt, 16), timings.maxReconnectDelayMs),
  };
}
