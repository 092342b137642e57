import { AdapterError } from "../errors.js";
import { StoreIo } from "../store-io.js";

/**
 * What went wrong talking to Redis, in words fit for the requesting user: never the server's
 * address, never another user's key.
 */
export function redisFailureReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof Error && error.name === "ReplyError") {
    return `Redis refused the command (${message.split(" ", 1)[0]})`;
  }
  if (/timed? ?out/i.test(message)) return "Redis did not reply in time";
  return "Redis is unreachable";
}

/** Failed Redis calls as AdapterErrors: a wrongly typed record is corrupt, the rest unavailable. */
export const REDIS_IO = new StoreIo({
  reason: (error) => `: ${redisFailureReason(error)}`,
  recordFault: (error, user) =>
    error instanceof Error && error.name === "ReplyError" && /^WRONGTYPE/.test(error.message)
      ? new AdapterError(
          "ADAPTER_CORRUPT",
          `adapter of user ${user}: the stored record is not a Redis hash`,
          { user, cause: error },
        )
      : undefined,
});
