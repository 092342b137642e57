import { encodeAdapter } from "../../src/adapters/format.js";
import type { Runtime } from "../../src/runtime.js";

/** A valid adapter file for `user`, fitting the served head. */
export function adapterFile(runtime: Runtime, user: string, seed = 1): Uint8Array {
  const { k, m, hash } = runtime.head;
  const now = new Date().toISOString();
  return encodeAdapter({
    user,
    version: 1,
    headHash: hash,
    createdAt: now,
    updatedAt: now,
    k,
    m,
    W: new Float32Array(k * m).map((_, i) => ((seed * 31 + i * 7) % 13) / 50 - 0.12),
    nPairs: 0,
    metrics: {},
  });
}

/** `count` distinct preference pairs. */
export function pairs(count: number, salt = "") {
  return Array.from({ length: count }, (_, i) => ({
    prompt: `question ${i % 3} ${salt}`,
    chosen: `A careful, complete answer number ${i}${"!".repeat(i % 3)} ${salt}`,
    rejected: `no ${i} ${salt}`,
  }));
}

export const shapedItem = {
  prompt: "Say hi",
  response: "Hello there!",
  policy_logprobs: [-0.5, -1.2],
  ref_logprobs: [-0.7, -1.0],
};

/** Keys of the test keyring: every one is at least 16 characters of the allowed alphabet. */
export const KEYS = {
  score: "score-key-0123456789abcdef",
  fit: "fit-key-0123456789abcdef",
  admin: "admin-key-0123456789abcdef",
  acme: "acme-key-0123456789abcdef",
} as const;

export const KEY_LIST = [
  `name=scorer,scopes=score,key=${KEYS.score}`,
  `name=fitter,scopes=fit,key=${KEYS.fit}`,
  `name=admin,scopes=admin,key=${KEYS.admin}`,
  `name=acme,scopes=score+fit+admin,prefix=acme:,key=${KEYS.acme}`,
].join(";");
