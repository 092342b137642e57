import { z } from "zod";

/** The one user-id rule: the HTTP API, the adapter stores, API-key prefixes and training data. */
export const USER_ID_PATTERN = /^[A-Za-z0-9._:@-]{1,128}$/;

export function isUserId(value: unknown): value is string {
  return typeof value === "string" && USER_ID_PATTERN.test(value);
}

export const userId = z
  .string()
  .regex(USER_ID_PATTERN, "expected 1-128 characters of A-Z a-z 0-9 . _ : @ -")
  .describe("User id: 1-128 characters of [A-Za-z0-9._:@-]");
