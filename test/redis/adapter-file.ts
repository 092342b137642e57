import { encodeAdapter } from "../../src/adapters/format.js";
import type { Adapter } from "../../src/adapters/types.js";

/** An adapter for the served head: W[a*m + j] = scale·(a + 1)·(j ? -1 : 1), no posterior, no pairs. */
export function testAdapter(
  user: string,
  head: { hash: string; k: number; m: number },
  scale: number,
): Adapter {
  const now = new Date().toISOString();
  const W = new Float32Array(head.k * head.m).map((_, i) => {
    const a = Math.floor(i / head.m);
    return scale * (a + 1) * (i % head.m === 0 ? 1 : -1);
  });
  return {
    user,
    version: 1,
    headHash: head.hash,
    createdAt: now,
    updatedAt: now,
    k: head.k,
    m: head.m,
    W,
    nPairs: 0,
    metrics: {},
  };
}

/** The safetensors upload PUT /v1/users/:user/adapter takes. */
export function testAdapterFile(
  user: string,
  head: { hash: string; k: number; m: number },
  scale: number,
): Uint8Array {
  return encodeAdapter(testAdapter(user, head, scale));
}
