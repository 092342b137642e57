import { isUserId } from "../domain/user-id.js";
import { AdapterError } from "./errors.js";

export function assertUserId(value: unknown): asserts value is string {
  if (isUserId(value)) return;
  const shown =
    typeof value === "string"
      ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
      : typeof value;
  throw new AdapterError(
    "INVALID_USER_ID",
    `expected a user id of 1-128 characters from [A-Za-z0-9._:@-], got ${shown}`,
  );
}
