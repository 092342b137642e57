import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { adapterPath } from "../src/adapters/file/paths.js";
import { FileAdapterStore } from "../src/adapters/file/store.js";
import { encodeAdapter } from "../src/adapters/format.js";
import type { Adapter, AdapterDraft } from "../src/adapters/types.js";
import { SeededRandom } from "../src/math/random.js";
import { forEachConcurrently } from "./concurrency.js";

export interface HeadShape {
  hash: string;
  k: number;
  m: number;
}

/** Pairs kept in every bench adapter, as a fitted adapter would keep them. */
export const BENCH_ADAPTER_PAIRS = 32;
const MARKER_FILE = "bench-fixture.json";
const FIXTURE_VERSION = 1;

export function benchUserId(index: number): string {
  return `bench-user-${index}`;
}

/**
 * What a fit of BENCH_ADAPTER_PAIRS pairs stores: W, the posterior's Cholesky factor and the pair
 * statistics, so file sizes and cache weights match real adapters.
 */
export function benchAdapterDraft(head: HeadShape, seed: number): AdapterDraft {
  const random = new SeededRandom(seed >>> 0);
  const p = head.k * head.m;
  const n = BENCH_ADAPTER_PAIRS;
  const W = Float32Array.from({ length: p }, () => 0.5 * random.gaussian());
  const cholesky = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    cholesky[i * p + i] = 1 + random.nextUnit();
    for (let j = 0; j < i; j++) cholesky[i * p + j] = 0.1 * random.gaussian();
  }
  return {
    headHash: head.hash,
    k: head.k,
    m: head.m,
    W,
    nPairs: n,
    metrics: { train_accuracy: 0.8, cv_log_likelihood: -0.5, lambda: 1 },
    posterior: { cholesky, lambda: 1 },
    pairs: {
      g: Float32Array.from({ length: n * p }, () => random.gaussian()),
      o: Float32Array.from({ length: n }, () => random.gaussian()),
    },
  };
}

interface Marker {
  version: number;
  users: number;
  headHash: string;
  k: number;
  m: number;
}

export interface FixtureResult {
  root: string;
  users: number;
  reused: boolean;
  seconds: number;
}

/**
 * Adapters of benchUserId(0..users-1) under `root`, written through FileAdapterStore.update (the
 * server's own write path, fsync included). A marker file lets later runs reuse the directory.
 */
export async function ensureStoreFixture(
  root: string,
  users: number,
  head: HeadShape,
  concurrency = 32,
): Promise<FixtureResult> {
  return ensureFixture(root, users, head, async () => {
    const store = await FileAdapterStore.open({ root, shape: { k: head.k, m: head.m } });
    try {
      await forEachConcurrently(users, concurrency, async (i) => {
        await store.update(benchUserId(i), () => benchAdapterDraft(head, i));
      });
    } finally {
      await store.close();
    }
  });
}

/**
 * The same for many users, faster: one template adapter encoded per user with only the user id
 * changed, written with plain writeFile (no fsync) at the store's own paths.
 */
export async function ensureTemplateFixture(
  root: string,
  users: number,
  head: HeadShape,
  concurrency = 64,
): Promise<FixtureResult> {
  return ensureFixture(root, users, head, async () => {
    const now = new Date().toISOString();
    const template: Adapter = {
      ...benchAdapterDraft(head, 1),
      user: benchUserId(0),
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
    const made = new Map<string, Promise<unknown>>();
    await forEachConcurrently(users, concurrency, async (i) => {
      const user = benchUserId(i);
      const path = adapterPath(root, user);
      const dir = dirname(path);
      let ready = made.get(dir);
      if (ready === undefined) {
        ready = mkdir(dir, { recursive: true });
        made.set(dir, ready);
      }
      await ready;
      await writeFile(path, encodeAdapter({ ...template, user }));
    });
  });
}

async function ensureFixture(
  root: string,
  users: number,
  head: HeadShape,
  write: () => Promise<void>,
): Promise<FixtureResult> {
  const started = performance.now();
  const wanted: Marker = {
    version: FIXTURE_VERSION,
    users,
    headHash: head.hash,
    k: head.k,
    m: head.m,
  };
  const marker = join(root, MARKER_FILE);
  if (await sameMarker(marker, wanted)) {
    return { root, users, reused: true, seconds: (performance.now() - started) / 1000 };
  }
  await rm(root, { recursive: true, force: true });
  await mkdir(root, { recursive: true });
  await write();
  await writeFile(marker, `${JSON.stringify(wanted)}\n`);
  return { root, users, reused: false, seconds: (performance.now() - started) / 1000 };
}

async function sameMarker(path: string, wanted: Marker): Promise<boolean> {
  try {
    const found = JSON.parse(await readFile(path, "utf8")) as Partial<Marker>;
    return (Object.keys(wanted) as (keyof Marker)[]).every((key) => found[key] === wanted[key]);
  } catch {
    return false;
  }
}
