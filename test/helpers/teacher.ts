import { encodeAdapter } from "../../src/adapters/format.js";
import type { TestServer } from "./server.js";

/** Deterministic pseudo-random numbers in [-1, 1) for planted adapters. */
export function planted(seed: number, n: number, scale = 1): Float32Array {
  let state = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out[i] = (((state >>> 0) / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

/** Stores a planted W for `user` through the import endpoint; returns the new version. */
export async function putAdapter(
  t: TestServer,
  user: string,
  W: Float32Array,
  headHash?: string,
): Promise<number> {
  const info = await t.get("/v1/info");
  const { k } = info.body.head;
  const m = info.body.model.m;
  const now = new Date().toISOString();
  const bytes = encodeAdapter({
    user,
    version: 1,
    headHash: headHash ?? info.body.head.hash,
    createdAt: now,
    updatedAt: now,
    k,
    m,
    W,
    nPairs: 0,
    metrics: {},
  });
  const res = await fetch(`${t.url}/v1/users/${encodeURIComponent(user)}/adapter`, {
    method: "PUT",
    headers: { "content-type": "application/octet-stream" },
    body: bytes,
  });
  if (res.status !== 200) throw new Error(`PUT adapter failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { version: number }).version;
}

const WORDS = [
  "alpha",
  "brisk",
  "cedar",
  "delta",
  "ember",
  "fjord",
  "gale",
  "harbor",
  "iris",
  "jade",
  "kelp",
  "lumen",
];

/** Varied responses: lists, digits, exclamation, code, length — things a byte model can see. */
export function responseText(i: number): string {
  const words = Array.from(
    { length: 3 + (i % 9) },
    (_, j) => WORDS[(i * 7 + j * 3) % WORDS.length],
  ).join(" ");
  const parts = [words];
  if (i % 2 === 0) parts.push("!".repeat(1 + (i % 3)));
  if (i % 3 === 0) parts.push(`\n- ${WORDS[i % 12]}\n- ${WORDS[(i + 5) % 12]}`);
  if (i % 5 === 0) parts.push(` ${i * 37}`);
  if (i % 7 === 0) parts.push("\n```\nx = 1\n```");
  return parts.join("");
}
