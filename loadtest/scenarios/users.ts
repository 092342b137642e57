/** `prefix-00000`, `prefix-00001`, …: valid user ids, zero-padded to the width of `count`. */
export function userIds(prefix: string, count: number): string[] {
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new TypeError(`count: expected a positive integer, got ${count}`);
  }
  const width = String(count - 1).length;
  return Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(width, "0")}`);
}

/** Cycles through the users in order. */
export function roundRobin(users: readonly string[]): () => string {
  let next = 0;
  return () => users[next++ % users.length]!;
}
