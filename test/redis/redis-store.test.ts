import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { AdapterCache } from "../../src/adapters/cache.js";
import { decodeAdapter, encodeAdapter } from "../../src/adapters/format.js";
import { openAdapterStore } from "../../src/adapters/open-store.js";
import { RedisAdapterStore } from "../../src/adapters/redis/store.js";
import { userHash } from "../../src/adapters/user-hash.js";
import { draftFor, SHAPE, seedOf } from "../adapters/fixtures/adapter-data.js";
import { describeStoreContract } from "../adapters/store-contract.js";
import { describeWithRedis, freePort, RedisServer, redisServerAvailable } from "./redis-server.js";

let redis: RedisServer;
let raw: Redis;

if (redisServerAvailable) {
  beforeAll(async () => {
    redis = await RedisServer.start();
    raw = new Redis(redis.url());
  });
  afterAll(async () => {
    raw?.disconnect();
    await redis?.stop();
  });
}

const opened: RedisAdapterStore[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close()));
});

/** Each test gets a prefix of its own: fresh, empty storage on the shared server. */
async function openStore(prefix = `t-${randomUUID()}:`): Promise<RedisAdapterStore> {
  const store = await RedisAdapterStore.open({ url: redis.url(0, prefix), shape: SHAPE });
  opened.push(store);
  return store;
}

function recordKey(store: RedisAdapterStore, user: string): string {
  return `${store.prefix}adapter:${userHash(user)}`;
}

async function until(condition: () => boolean, deadlineMs: number): Promise<boolean> {
  const deadline = performance.now() + deadlineMs;
  while (!condition()) {
    if (performance.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return true;
}

describeWithRedis("RedisAdapterStore", () => {
  describeStoreContract("RedisAdapterStore", {
    async open(options = {}) {
      const prefix = `contract-${randomUUID()}:`;
      const store = await RedisAdapterStore.open({
        url: redis.url(0, prefix),
        shape: SHAPE,
        ...options,
      });
      return {
        store,
        async corrupt(user, bytes) {
          const value = bytes === undefined ? "this is not a safetensors file" : Buffer.from(bytes);
          await raw.hset(recordKey(store, user), "adapter", value);
        },
        async put(adapter) {
          const key = recordKey(store, adapter.user);
          if ((await raw.exists(key)) === 0) await raw.incr(`${store.prefix}adapters:count`);
          await raw.hset(
            key,
            "version",
            String(adapter.version),
            "adapter",
            Buffer.from(encodeAdapter(adapter)),
          );
        },
        async peer() {
          return RedisAdapterStore.open({ url: redis.url(0, prefix), shape: SHAPE });
        },
      };
    },
  });

  it("keeps one hash per user under sha256(user): the version and the safetensors bytes", async () => {
    const store = await openStore();
    const stored = await store.update("alice@example.com", () => draftFor(3));
    const key = recordKey(store, "alice@example.com");
    expect(key).not.toContain("alice");
    const [version, bytes] = await raw.hmgetBuffer(key, "version", "adapter");
    expect(version?.toString()).toBe("1");
    expect(decodeAdapter(bytes!, { user: "alice@example.com", shape: SHAPE })).toEqual(stored);
    expect(await raw.get(`${store.prefix}adapters:count`)).toBe("1");
    await store.delete("alice@example.com");
    expect(await raw.exists(key)).toBe(0);
  });

  it("treats a record of the wrong Redis type, or an incomplete one, as corrupt", async () => {
    const store = await openStore();
    await raw.set(recordKey(store, "mallory"), "a string, not a hash");
    await expect(store.get("mallory")).rejects.toMatchObject({ code: "ADAPTER_CORRUPT" });
    await raw.hset(recordKey(store, "trudy"), "version", "1");
    await expect(store.get("trudy")).rejects.toMatchObject({ code: "ADAPTER_CORRUPT" });
    await store.update("walter", () => draftFor(1));
    await raw.hset(recordKey(store, "walter"), "version", "7");
    await expect(store.get("walter")).rejects.toMatchObject({ code: "ADAPTER_CORRUPT" });
  });

  it("replaces a record of the wrong type, an incomplete one or one that disagrees with itself, when asked", async () => {
    const store = await openStore();
    const replace = { unreadable: "replace" } as const;
    // No version is left anywhere: one above any counted version (the time in milliseconds).
    await raw.set(recordKey(store, "mallory"), "a string, not a hash");
    const before = Date.now();
    const mallory = await store.update("mallory", () => draftFor(1), replace);
    expect(mallory.version).toBeGreaterThan(before);
    expect(await store.get("mallory")).toEqual(mallory);
    // The version field alone: the next one follows it.
    await raw.hset(recordKey(store, "trudy"), "version", "3");
    expect((await store.update("trudy", () => draftFor(1), replace)).version).toBe(4);
    // The field says 7, the adapter 1: the higher one is the version clients may have seen.
    await store.update("walter", () => draftFor(1));
    await raw.hset(recordKey(store, "walter"), "version", "7");
    expect((await store.update("walter", () => draftFor(2), replace)).version).toBe(8);
    expect(seedOf((await store.get("walter"))!)).toBe(2);
    // Replacing keeps each record counted once.
    expect(await store.delete("walter")).toBe(true);
  });

  it("lets only one of two replicas replace the same damaged record", async () => {
    const prefix = `repair-${randomUUID()}:`;
    const a = await openStore(prefix);
    const b = await openStore(prefix);
    await a.update("olga", () => draftFor(1));
    await raw.hset(recordKey(a, "olga"), "adapter", "damaged");
    const results = await Promise.all(
      [a, b].map((store, i) =>
        store.update("olga", (current) => draftFor(current === undefined ? 10 + i : 20 + i), {
          unreadable: "replace",
        }),
      ),
    );
    // The loser retried on the winner's adapter, which it could read.
    expect(results.map((r) => r.version).sort()).toEqual([2, 3]);
    const last = results.find((r) => r.version === 3)!;
    expect(seedOf(last)).toBeGreaterThanOrEqual(20);
    expect(await raw.get(`${a.prefix}adapters:count`)).toBe("1");
  });

  it("publishes every update and delete to the other stores sharing the prefix, not to itself", async () => {
    const prefix = `pubsub-${randomUUID()}:`;
    const a = await openStore(prefix);
    const b = await openStore(prefix);
    const other = await openStore();
    const heardByA: string[] = [];
    const heardByB: string[] = [];
    const heardByOther: string[] = [];
    a.subscribe((user) => heardByA.push(user));
    b.subscribe((user) => heardByB.push(user));
    other.subscribe((user) => heardByOther.push(user));
    await a.update("alice", () => draftFor(1));
    await a.delete("alice");
    await a.delete("alice");
    expect(await until(() => heardByB.length >= 2, 1000)).toBe(true);
    await b.update("bob", () => draftFor(1));
    expect(await until(() => heardByA.length >= 1, 1000)).toBe(true);
    expect(heardByB).toEqual(["alice", "alice"]);
    expect(heardByA).toEqual(["bob"]);
    expect(heardByOther).toEqual([]);
  });

  it("drops another replica's cached adapter within 1 s of an update", async () => {
    const prefix = `cache-${randomUUID()}:`;
    const writer = await openStore(prefix);
    const readerStore = await openStore(prefix);
    const reader = new AdapterCache(readerStore, { maxBytes: 1 << 20 });
    let heard = 0;
    readerStore.subscribe(() => heard++);
    await writer.update("carol", () => draftFor(1));
    // A load overlapping an invalidation is not remembered: let this one arrive first.
    expect(await until(() => heard === 1, 1000)).toBe(true);
    expect(seedOf((await reader.get("carol"))!)).toBe(1);
    expect(reader.stats().entries).toBe(1);
    await writer.update("carol", () => draftFor(2));
    expect(await until(() => reader.stats().entries === 0, 1000)).toBe(true);
    expect(seedOf((await reader.get("carol"))!)).toBe(2);
    await writer.delete("carol");
    expect(await until(() => reader.stats().entries === 0, 1000)).toBe(true);
    expect(await reader.get("carol")).toBeUndefined();
  });

  it("fails fast while Redis is down, keeps cached adapters, and resyncs when it returns", async () => {
    const own = await RedisServer.start();
    try {
      const store = await RedisAdapterStore.open({ url: own.url(), shape: SHAPE });
      opened.push(store);
      const cache = new AdapterCache(store, { maxBytes: 1 << 20 });
      let resyncs = 0;
      store.subscribeResync(() => resyncs++);
      await store.update("dave", () => draftFor(4));
      await store.update("erin", () => draftFor(5));
      expect(seedOf((await cache.get("dave"))!)).toBe(4);
      expect(store.healthy()).toBe(true);

      await own.kill();
      expect(await until(() => !store.healthy(), 2000)).toBe(true);
      expect(cache.healthy()).toBe(false);
      expect(seedOf((await cache.get("dave"))!)).toBe(4);
      await expect(cache.get("erin")).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
      await expect(store.update("erin", () => draftFor(6))).rejects.toMatchObject({
        code: "STORE_UNAVAILABLE",
      });
      await expect(store.count()).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
      expect(resyncs).toBe(0);

      await own.restart();
      expect(await until(() => store.healthy(), 10_000)).toBe(true);
      expect(resyncs).toBe(1);
      expect(cache.stats().entries).toBe(0);
      // Not durable: the restarted server came back empty, and the store says so.
      expect(await cache.get("dave")).toBeUndefined();
      expect((await store.update("dave", () => draftFor(7))).version).toBe(1);
    } finally {
      await own.stop();
    }
  });

  it("refuses to open when Redis is unreachable, and rejects malformed URLs", async () => {
    const port = await freePort();
    await expect(
      RedisAdapterStore.open({ url: `redis://127.0.0.1:${port}/0`, shape: SHAPE }),
    ).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
    await expect(
      RedisAdapterStore.open({ url: "redis://127.0.0.1:1/zero", shape: SHAPE }),
    ).rejects.toThrow(TypeError);
    await expect(RedisAdapterStore.open({ url: "redis://", shape: SHAPE })).rejects.toThrow(
      TypeError,
    );
  });

  it("is what --adapters opens for a redis:// URL", async () => {
    const store = await openAdapterStore(redis.url(0, `open-${randomUUID()}:`), SHAPE);
    opened.push(store as RedisAdapterStore);
    expect(store).toBeInstanceOf(RedisAdapterStore);
    expect((await store.update("frank", () => draftFor(1))).version).toBe(1);
  });
});
