import { isUserId } from "../../domain/user-id.js";

/** `<origin> <user>`: user ids never contain spaces; the origin lets a store skip its own writes. */
export function encodeInvalidation(origin: string, user: string): string {
  return `${origin} ${user}`;
}

export function decodeInvalidation(message: string): { origin: string; user: string } | undefined {
  const space = message.indexOf(" ");
  if (space < 1) return undefined;
  const user = message.slice(space + 1);
  return isUserId(user) ? { origin: message.slice(0, space), user } : undefined;
}
