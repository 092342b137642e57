import { describe, expect, it } from "vitest";
import { AdapterCache } from "../../src/adapters/cache.js";
import { AdapterError } from "../../src/adapters/errors.js";
import { FileAdapterStore } from "../../src/adapters/file/store.js";
import type { Adapter, AdapterStore, AdapterUpdate } from "../../src/adapters/types.js";
import { draftFor, SHAPE } from "./fixtures/adapter-data.js";
import { SpyStore } from "./fixtures/spy-store.js";
import { useTempDirs } from "./fixtures/temp-dirs.js";

const tempDir = useTempDirs();

const nextVersionDraft = (current: Adapter | undefined) => draftFor((current?.version ?? 0) + 1);

/** A file store whose health is set by the test, and whose next update fails as told. */
class FlakyStore extends SpyStore {
  isHealthy = true;
  /** "before": fails without writing; "after": writes, then fails as if the reply were lost. */
  failNextUpdate: "before" | "after" | undefined;

  override update(user: string, update: AdapterUpdate): Promise<Adapter> {
    const failure = this.failNextUpdate;
    this.failNextUpdate = undefined;
    const unavailable = new AdapterError(
      "STORE_UNAVAILABLE",
      `adapter store could not write the adapter of user ${user}: Redis is unreachable`,
      { user },
    );
    if (failure === "before") return Promise.reject(unavailable);
    if (failure === "after") {
      return this.inner.update(user, update).then(() => Promise.reject(unavailable));
    }
    return this.inner.update(user, update);
  }

  healthy(): boolean {
    return this.isHealthy;
  }
}

async function setup(): Promise<{ store: FlakyStore; cache: AdapterCache; files: AdapterStore }> {
  const files = await FileAdapterStore.open({ root: await tempDir(), shape: SHAPE });
  const store = new FlakyStore(files);
  return { store, files, cache: new AdapterCache(store, { maxBytes: 1024 * 1024 }) };
}

describe("AdapterCache after a failed update", () => {
  for (const read of ["get", "weights"] as const) {
    it(`${read}(): keeps serving the cached adapter while the store is down`, async () => {
      const { store, cache } = await setup();
      await cache.update("alice", nextVersionDraft);
      await cache[read]("alice");
      store.isHealthy = false;
      store.failNextUpdate = "before";
      await expect(cache.update("alice", nextVersionDraft)).rejects.toMatchObject({
        code: "STORE_UNAVAILABLE",
      });
      for (let i = 0; i < 3; i++) expect((await cache[read]("alice"))?.version).toBe(1);
      expect(store.getsOf("alice") + store.weightReadsOf("alice")).toBe(0);

      // Back up: the entry is read again once, in case the failed write landed after all.
      store.isHealthy = true;
      expect((await cache[read]("alice"))?.version).toBe(1);
      expect((await cache[read]("alice"))?.version).toBe(1);
      expect(store.getsOf("alice") + store.weightReadsOf("alice")).toBe(1);
    });
  }

  it("reads again, once the store is healthy, a write that landed although it failed", async () => {
    const { store, cache, files } = await setup();
    await cache.update("alice", nextVersionDraft);
    store.isHealthy = false;
    store.failNextUpdate = "after";
    await expect(cache.update("alice", nextVersionDraft)).rejects.toThrow(/unreachable/);
    expect((await files.get("alice"))?.version).toBe(2);
    expect((await cache.get("alice"))?.version).toBe(1);
    store.isHealthy = true;
    expect((await cache.get("alice"))?.version).toBe(2);
    expect((await cache.weights("alice"))?.version).toBe(2);
  });

  it("needs no read again when the update function itself threw", async () => {
    const { store, cache } = await setup();
    await cache.update("alice", nextVersionDraft);
    await expect(
      cache.update("alice", () => {
        throw new Error("fit failed");
      }),
    ).rejects.toThrow("fit failed");
    expect((await cache.get("alice"))?.version).toBe(1);
    expect(store.getsOf("alice")).toBe(0);
  });

  it("forgets an unknown-user marker, and a load in flight, when a write may have landed", async () => {
    const { store, cache, files } = await setup();
    expect(await cache.get("bob")).toBeUndefined();
    store.failNextUpdate = "after";
    await expect(cache.update("bob", nextVersionDraft)).rejects.toThrow(/unreachable/);
    expect((await files.get("bob"))?.version).toBe(1);
    expect((await cache.get("bob"))?.version).toBe(1);
  });

  it("drops the unsure mark with the entry (evicted, deleted or invalidated)", async () => {
    const { store, cache } = await setup();
    await cache.update("alice", nextVersionDraft);
    store.isHealthy = false;
    store.failNextUpdate = "before";
    await expect(cache.update("alice", nextVersionDraft)).rejects.toThrow();
    cache.invalidate("alice");
    expect((await cache.get("alice"))?.version).toBe(1);
    expect((await cache.get("alice"))?.version).toBe(1);
    expect(store.getsOf("alice")).toBe(1);
  });
});
