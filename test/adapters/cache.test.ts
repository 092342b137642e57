import { describe, expect, it } from "vitest";
import { adapterByteSize, weightsByteSize } from "../../src/adapters/adapter-size.js";
import { AdapterCache, type AdapterCacheOptions } from "../../src/adapters/cache.js";
import { FileAdapterStore } from "../../src/adapters/file/store.js";
import type { Adapter } from "../../src/adapters/types.js";
import { draftFor, SHAPE, seedOf } from "./fixtures/adapter-data.js";
import { SpyStore } from "./fixtures/spy-store.js";
import { useTempDirs } from "./fixtures/temp-dirs.js";

const tempDir = useTempDirs();

async function setup(options: Partial<AdapterCacheOptions> = {}) {
  const files = await FileAdapterStore.open({ root: await tempDir(), shape: SHAPE });
  const spy = new SpyStore(files);
  const cache = new AdapterCache(spy, { maxBytes: 1024 * 1024, ...options });
  return { files, spy, cache };
}

const nextVersionDraft = (current: Adapter | undefined) => draftFor((current?.version ?? 0) + 1);

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe("AdapterCache", () => {
  it("answers repeated gets from memory and counts hits and misses", async () => {
    const loads: [number, string][] = [];
    const { files, spy, cache } = await setup({ onLoad: (s, outcome) => loads.push([s, outcome]) });
    await files.update("alice", () => draftFor(1));
    const first = await cache.get("alice");
    const second = await cache.get("alice");
    expect(seedOf(first!)).toBe(1);
    expect(second).toBe(first);
    expect(spy.getsOf("alice")).toBe(1);
    const stats = cache.stats();
    expect(stats).toMatchObject({ hits: 1, misses: 1, loads: 1, loadErrors: 0, entries: 1 });
    expect(stats.bytes).toBe(adapterByteSize(first!) + 2 * "alice".length);
    expect(loads).toHaveLength(1);
    expect(loads[0]![1]).toBe("found");
    expect(stats.loadSeconds).toBeCloseTo(loads[0]![0], 12);
  });

  it("shares one store load among 50 concurrent gets of an uncached user", async () => {
    const { files, spy, cache } = await setup();
    await files.update("alice", () => draftFor(3));
    const results = await Promise.all(Array.from({ length: 50 }, () => cache.get("alice")));
    expect(spy.getsOf("alice")).toBe(1);
    expect(cache.stats()).toMatchObject({ loads: 1, misses: 50 });
    expect(new Set(results).size).toBe(1);
    expect(seedOf(results[0]!)).toBe(3);
  });

  it("does not remember a failed load, fails only that user's callers, and retries next time", async () => {
    const { files, spy, cache } = await setup();
    await files.update("alice", () => draftFor(1));
    await files.update("bob", () => draftFor(2));
    spy.failNextGet.set(
      "alice",
      Object.assign(new Error("disk hiccup"), { code: "STORE_UNAVAILABLE" }),
    );
    const outcomes = await Promise.allSettled([
      cache.get("alice"),
      cache.get("bob"),
      cache.get("alice"),
      cache.get("bob"),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual([
      "rejected",
      "fulfilled",
      "rejected",
      "fulfilled",
    ]);
    expect((outcomes[0] as PromiseRejectedResult).reason.message).toBe("disk hiccup");
    expect(seedOf((outcomes[1] as PromiseFulfilledResult<Adapter>).value)).toBe(2);
    expect(cache.stats()).toMatchObject({ loads: 2, loadErrors: 1, entries: 1 });

    expect(seedOf((await cache.get("alice"))!)).toBe(1);
    expect(spy.getsOf("alice")).toBe(2);
    expect(cache.stats()).toMatchObject({ loads: 3, loadErrors: 1, entries: 2 });
  });

  it("remembers unknown users for negativeTtlMs only", async () => {
    let now = 1_000;
    const { files, spy, cache } = await setup({ negativeTtlMs: 2000, clock: { now: () => now } });
    expect(await cache.get("ghost")).toBeUndefined();
    expect(await cache.get("ghost")).toBeUndefined();
    expect(spy.getsOf("ghost")).toBe(1);
    expect(cache.stats()).toMatchObject({ negativeHits: 1, loads: 1 });

    // Created behind the cache's back (another process): hidden until the marker expires.
    await files.update("ghost", () => draftFor(1));
    now += 1999;
    expect(await cache.get("ghost")).toBeUndefined();
    now += 2;
    expect(seedOf((await cache.get("ghost"))!)).toBe(1);
    expect(spy.getsOf("ghost")).toBe(2);
  });

  it("asks the store every time when negative caching is off", async () => {
    const { spy, cache } = await setup({ negativeTtlMs: 0 });
    for (let i = 0; i < 3; i++) expect(await cache.get("ghost")).toBeUndefined();
    expect(spy.getsOf("ghost")).toBe(3);
    expect(cache.stats().entries).toBe(0);
  });

  it("serves the new version at once after an update through it", async () => {
    const { spy, cache } = await setup();
    expect(await cache.get("alice")).toBeUndefined();
    const written = await cache.update("alice", nextVersionDraft);
    expect(await cache.get("alice")).toBe(written);
    await cache.update("alice", nextVersionDraft);
    expect((await cache.get("alice"))!.version).toBe(2);
    expect(spy.getsOf("alice")).toBe(1);
  });

  it("forgets a user at once when deleted through it", async () => {
    const { cache } = await setup();
    await cache.update("alice", nextVersionDraft);
    expect((await cache.get("alice"))!.version).toBe(1);
    expect(await cache.delete("alice")).toBe(true);
    expect(await cache.get("alice")).toBeUndefined();
    expect(await cache.count()).toBe(0);
  });

  it("keeps serving the stored version when an update through it fails", async () => {
    const { cache } = await setup();
    await cache.update("alice", nextVersionDraft);
    await expect(
      cache.update("alice", () => {
        throw new Error("fit failed");
      }),
    ).rejects.toThrow("fit failed");
    expect((await cache.get("alice"))!.version).toBe(1);
  });

  for (const read of ["get", "weights"] as const) {
    it(`does not remember a ${read}() load that an update overtook`, async () => {
      const { files, spy, cache } = await setup();
      await files.update("alice", () => draftFor(1));
      const hold = deferred();
      const done = deferred();
      spy.holdGets = hold.promise;
      spy.onRead = done.resolve;
      const stale = cache[read]("alice");
      await done.promise;
      spy.holdGets = undefined;
      await cache.update("alice", nextVersionDraft);
      hold.resolve();
      expect((await stale)!.version).toBe(1);
      expect((await cache[read]("alice"))!.version).toBe(2);
      expect((await cache.get("alice"))!.posterior).toBeDefined();
    });
  }

  it("drops entries the store reports as changed elsewhere, and stops listening on close", async () => {
    const { files, spy, cache } = await setup();
    await files.update("alice", () => draftFor(1));
    expect((await cache.get("alice"))!.version).toBe(1);
    await files.update("alice", () => draftFor(2));
    expect((await cache.get("alice"))!.version).toBe(1);
    spy.emitInvalidation("alice");
    expect((await cache.get("alice"))!.version).toBe(2);
    expect(spy.listenerCount).toBe(1);
    await cache.close();
    expect(spy.listenerCount).toBe(0);
    expect(spy.closed).toBe(true);
  });

  it("stays within maxBytes, evicting least recently used adapters and counting evictions", async () => {
    const { files, cache: probe } = await setup();
    await files.update("user-00", () => draftFor(1, { pairs: 40 }));
    const entryBytes = adapterByteSize((await probe.get("user-00"))!) + 2 * "user-00".length;
    const maxBytes = 10 * entryBytes + Math.floor(entryBytes / 2);
    const cache = new AdapterCache(files, { maxBytes });
    const users = Array.from({ length: 30 }, (_, i) => `user-${String(i).padStart(2, "0")}`);
    for (const user of users.slice(1)) await files.update(user, () => draftFor(1, { pairs: 40 }));
    for (const user of users) {
      expect(seedOf((await cache.get(user))!)).toBe(1);
      expect(cache.stats().bytes).toBeLessThanOrEqual(maxBytes);
    }
    expect(cache.stats()).toMatchObject({ entries: 10, bytes: 10 * entryBytes, evictions: 20 });
    // The most recent ten are in memory; the first one was evicted and is loaded again.
    const loadsBefore = cache.stats().loads;
    await cache.get("user-29");
    expect(cache.stats().loads).toBe(loadsBefore);
    await cache.get("user-00");
    expect(cache.stats().loads).toBe(loadsBefore + 1);
    expect(cache.stats().evictions).toBe(21);
  });

  it("serves but does not keep an adapter larger than the whole cache", async () => {
    const { files, spy } = await setup();
    const cache = new AdapterCache(spy, { maxBytes: 1000 });
    await files.update("alice", () => draftFor(1, { pairs: 40 }));
    expect(seedOf((await cache.get("alice"))!)).toBe(1);
    expect(seedOf((await cache.get("alice"))!)).toBe(1);
    expect(spy.getsOf("alice")).toBe(2);
    expect(cache.stats()).toMatchObject({ entries: 0, bytes: 0 });
  });

  it("with maxBytes 0 keeps nothing but still shares concurrent loads", async () => {
    const { files, spy } = await setup();
    const cache = new AdapterCache(spy, { maxBytes: 0 });
    await files.update("alice", () => draftFor(1));
    await Promise.all(Array.from({ length: 5 }, () => cache.get("alice")));
    await cache.get("alice");
    expect(spy.getsOf("alice")).toBe(2);
    expect(cache.stats()).toMatchObject({ entries: 0, bytes: 0, loads: 2 });
  });

  it("agrees with the store after racing updates, deletes and gets", async () => {
    const { files, cache } = await setup();
    const users = ["u1", "u2", "u3"];
    let state = 99;
    const random = () => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state / 2 ** 31;
    };
    const ops: Promise<unknown>[] = [];
    for (let i = 0; i < 200; i++) {
      const user = users[Math.floor(random() * users.length)]!;
      const roll = random();
      if (roll < 0.35) ops.push(cache.update(user, nextVersionDraft));
      else if (roll < 0.5) ops.push(cache.delete(user));
      else {
        ops.push(
          cache.get(user).then((a) => {
            if (a !== undefined) expect(seedOf(a)).toBe(a.version);
          }),
        );
      }
      if (random() < 0.2) await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(ops);
    for (const user of users) {
      expect((await cache.get(user))?.version).toBe((await files.get(user))?.version);
    }
  });

  describe("weights()", () => {
    it("reads W alone from a store that can, keeps only that, and counts like get()", async () => {
      const { files, spy, cache } = await setup();
      const stored = await files.update("alice", () => draftFor(4));
      const first = await cache.weights("alice");
      const second = await cache.weights("alice");
      expect(first).toEqual({
        user: "alice",
        version: 1,
        headHash: stored.headHash,
        k: stored.k,
        m: stored.m,
        W: stored.W,
      });
      expect(second).toBe(first);
      expect(spy.weightReadsOf("alice")).toBe(1);
      expect(spy.getsOf("alice")).toBe(0);
      const stats = cache.stats();
      expect(stats).toMatchObject({ hits: 1, misses: 1, loads: 1, entries: 1 });
      expect(stats.bytes).toBe(weightsByteSize(first!) + 2 * "alice".length);
      expect(stats.bytes).toBeLessThan(adapterByteSize(stored) / 2);
    });

    it("loads the whole adapter for get() after weights(), then answers both from it", async () => {
      const { files, spy, cache } = await setup();
      await files.update("alice", () => draftFor(2));
      await cache.weights("alice");
      const whole = await cache.get("alice");
      expect(whole?.posterior).toBeDefined();
      expect(spy.getsOf("alice")).toBe(1);
      expect(await cache.weights("alice")).toBe(whole);
      expect(await cache.get("alice")).toBe(whole);
      expect(spy.getsOf("alice") + spy.weightReadsOf("alice")).toBe(2);
    });

    it("joins a whole load already running instead of reading again", async () => {
      const { files, spy, cache } = await setup();
      await files.update("alice", () => draftFor(2));
      const [whole, weights] = await Promise.all([cache.get("alice"), cache.weights("alice")]);
      expect(weights).toBe(whole);
      expect(spy.weightReadsOf("alice")).toBe(0);
    });

    it("shares one read among concurrent callers and remembers unknown users", async () => {
      const { files, spy, cache } = await setup();
      await files.update("alice", () => draftFor(3));
      const results = await Promise.all(Array.from({ length: 20 }, () => cache.weights("alice")));
      expect(new Set(results).size).toBe(1);
      expect(spy.weightReadsOf("alice")).toBe(1);
      expect(await cache.weights("nobody")).toBeUndefined();
      expect(await cache.weights("nobody")).toBeUndefined();
      expect(await cache.get("nobody")).toBeUndefined();
      expect(spy.weightReadsOf("nobody")).toBe(1);
      expect(spy.getsOf("nobody")).toBe(0);
    });

    it("falls back to get() on a store without getWeights", async () => {
      const { files } = await setup();
      await files.update("alice", () => draftFor(5));
      const store = new SpyStore({
        get: (user) => files.get(user),
        update: (user, update) => files.update(user, update),
        delete: (user) => files.delete(user),
        count: () => files.count(),
        close: () => files.close(),
      });
      expect(store.getWeights).toBeUndefined();
      const cache = new AdapterCache(store, { maxBytes: 1024 * 1024 });
      const weights = await cache.weights("alice");
      expect(weights?.version).toBe(1);
      expect(await cache.get("alice")).toBe(weights);
      expect(store.getsOf("alice")).toBe(1);
    });

    it("drops the weights at once on delete and on an invalidation from the store", async () => {
      const { files, spy, cache } = await setup();
      await files.update("alice", () => draftFor(1));
      expect((await cache.weights("alice"))!.version).toBe(1);
      await files.update("alice", () => draftFor(2));
      spy.emitInvalidation("alice");
      expect((await cache.weights("alice"))!.version).toBe(2);
      await cache.delete("alice");
      expect(await cache.weights("alice")).toBeUndefined();
    });
  });

  it("rejects invalid user ids before touching the store", async () => {
    const { spy, cache } = await setup();
    await expect(cache.get("no/slashes")).rejects.toMatchObject({ code: "INVALID_USER_ID" });
    expect(spy.getCalls.size).toBe(0);
  });

  it("checks its options", async () => {
    const { spy } = await setup();
    expect(() => new AdapterCache(spy, { maxBytes: -1 })).toThrow(TypeError);
    expect(() => new AdapterCache(spy, { maxBytes: 10, negativeTtlMs: 1.5 })).toThrow(TypeError);
  });
});
