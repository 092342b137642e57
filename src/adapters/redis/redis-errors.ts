import { AdapterError } from "../errors.js";

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

/** A failed Redis call as an AdapterError: a wrongly typed record is corrupt, the rest unavailable. */
export function toStoreError(error: unknown, user: string, action: string): AdapterError {
  if (error instanceof AdapterError) return error;
  if (error instanceof Error && error.name === "ReplyError" && /^WRONGTYPE/.test(error.message)) {
    return new AdapterError(
      "ADAPTER_CORRUPT",
      `adapter of user ${user}: the stored record is not a Redis hash`,
      { user, cause: error },
    );
  }
  return new AdapterError(
    "STORE_UNAVAILABLE",
    `adapter store could not ${action} the adapter of user ${user}: ${redisFailureReason(error)}`,
    { user, cause: error },
  );
}
