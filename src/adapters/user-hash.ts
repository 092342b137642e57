import { hash } from "node:crypto";

/** Hex sha256 of the user id: stores name files and keys by it, never by the raw id. */
export function userHash(user: string): string {
  return hash("sha256", user, "hex");
}
