import type { DeltaStack } from "./delta-stack.js";

/** User u's pairs as a one-user stack (a view, no copy). */
export function userSlice(stack: DeltaStack, u: number): DeltaStack {
  const q = stack.d * stack.m;
  const start = stack.userStart[u];
  const end = stack.userStart[u + 1];
  return {
    d: stack.d,
    m: stack.m,
    n: end - start,
    users: 1,
    userStart: Int32Array.of(0, end - start),
    deltas: stack.deltas.subarray(start * q, end * q),
  };
}
