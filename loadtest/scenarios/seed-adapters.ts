import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { FileAdapterStore } from "../../src/adapters/file/store.js";
import { encodeAdapter } from "../../src/adapters/format.js";
import { DEFAULT_MODEL_DIR } from "../../src/config.js";
import { createRng, uniformFill } from "../../src/math/random.js";
import { readHead } from "../../src/model/head-file.js";
import type { Target } from "../target.js";

/** Where adapters go: the directory of a server not started yet, or a running server's API. */
export type SeedTarget = { kind: "dir"; dir: string } | { kind: "http"; target: Target };

interface HeadIdentity {
  k: number;
  m: number;
  hash: string;
}

const W_SCALE = 0.5;

async function defaultHead(): Promise<HeadIdentity> {
  const manifest = JSON.parse(await readFile(join(DEFAULT_MODEL_DIR, "manifest.json"), "utf8"));
  const head = await readHead(join(DEFAULT_MODEL_DIR, manifest.head));
  return { k: head.k, m: head.m, hash: head.hash };
}

async function servedHead(target: Target): Promise<HeadIdentity> {
  const response = await fetch(`${target.url}/v1/info`, {
    headers: target.headers,
    signal: AbortSignal.timeout(10_000),
  });
  if (response.status !== 200) throw new Error(`GET /v1/info answered ${response.status}`);
  const info = (await response.json()) as {
    head: { k: number; hash: string };
    model: { m: number };
  };
  return { k: info.head.k, m: info.model.m, hash: info.head.hash };
}

async function inParallel(count: number, width: number, task: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, count) }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

/**
 * Gives every user an adapter fitted (as far as the server can tell) against the served head,
 * with seeded random W: written through FileAdapterStore before the server starts, or uploaded
 * with PUT /v1/users/:user/adapter to an external server.
 */
export async function seedAdapters(
  target: SeedTarget,
  users: readonly string[],
  seed: number,
): Promise<void> {
  // One stream per user, so W does not depend on the order the parallel writes run in.
  const weights = (i: number, head: HeadIdentity) =>
    uniformFill(createRng((seed ^ Math.imul(i + 1, 0x9e37_79b1)) >>> 0), head.k * head.m, W_SCALE);
  if (target.kind === "dir") {
    const head = await defaultHead();
    const store = await FileAdapterStore.open({ root: target.dir, shape: head });
    try {
      await inParallel(users.length, 16, async (i) => {
        const W = weights(i, head);
        await store.update(users[i]!, () => ({
          headHash: head.hash,
          k: head.k,
          m: head.m,
          W,
          nPairs: 0,
          metrics: {},
        }));
      });
    } finally {
      await store.close();
    }
    return;
  }
  const { target: server } = target;
  const head = await servedHead(server);
  await inParallel(users.length, 8, async (i) => {
    const user = users[i]!;
    const now = new Date().toISOString();
    const bytes = encodeAdapter({
      user,
      version: 1,
      headHash: head.hash,
      createdAt: now,
      updatedAt: now,
      k: head.k,
      m: head.m,
      W: weights(i, head),
      nPairs: 0,
      metrics: {},
    });
    const response = await fetch(`${server.url}/v1/users/${encodeURIComponent(user)}/adapter`, {
      method: "PUT",
      headers: { ...server.headers, "content-type": "application/octet-stream" },
      body: bytes,
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    if (response.status !== 200) {
      throw new Error(`PUT adapter of ${user} answered ${response.status}: ${text.slice(0, 200)}`);
    }
  });
}
