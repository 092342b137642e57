import { afterEach, describe, expect, it } from "vitest";
import { encodeAdapter } from "../../src/adapters/format.js";
import type { Adapter, AdapterDraft, AdapterStore } from "../../src/adapters/types.js";
import { draftFor, HEAD_HASH, P, SHAPE, seedOf } from "./fixtures/adapter-data.js";

/** A store over fresh, empty storage, plus what the contract needs to reach behind its back. */
export interface ContractStore {
  store: AdapterStore;
  /**
   * Replaces the stored adapter bytes of the user (who has an adapter) with bytes that are no
   * adapter, or with `bytes`; whatever else the record holds (Redis: its version field) stays.
   */
  corrupt(user: string, bytes?: Uint8Array): Promise<void>;
  /** Stores the encoded adapter as it is, as a server of another head would have written it. */
  put(adapter: Adapter): Promise<void>;
  /**
   * Another store over the same storage, as another process would open it. Only for backends
   * that serialize updates across processes.
   */
  peer?(): Promise<AdapterStore>;
}

export interface StoreContractSubject {
  /**
   * The head shape every store of the subject is opened with must be SHAPE (k=4, m=2); headHash,
   * when given, is the served head's (the store's headHash option).
   */
  open(options?: { headHash?: string }): Promise<ContractStore>;
}

/** An adapter a head of another rank left behind: k = 8, m = 2, with posterior and pairs. */
function otherHeadAdapter(user: string, version: number): Adapter {
  const k = 8;
  const m = 2;
  const p = k * m;
  const cholesky = new Float64Array(p * p);
  for (let i = 0; i < p; i++) cholesky[i * p + i] = 2;
  return {
    user,
    version,
    headHash: "another-head-of-rank-8",
    createdAt: "2025-01-02T03:04:05.000Z",
    updatedAt: "2025-01-02T03:04:06.000Z",
    k,
    m,
    W: new Float32Array(p).fill(0.5),
    nPairs: 3,
    metrics: { train_accuracy: 1 },
    posterior: { cholesky, lambda: 1 },
    pairs: { g: new Float32Array(3 * p).fill(0.25), o: new Float32Array(3).fill(1) },
  };
}

async function rejection(promise: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code?: string; message: string };
  }
  throw new Error("expected a rejection");
}

/** The next draft counts its updates in metrics.updates and records the version it saw. */
function counting(current: Adapter | undefined): AdapterDraft {
  const draft = draftFor((current?.version ?? 0) + 1);
  draft.metrics = {
    updates: (current?.metrics["updates"] ?? 0) + 1,
    sawVersion: current?.version ?? 0,
  };
  return draft;
}

/**
 * The behaviour every AdapterStore owes its callers, whatever holds the adapters. Registers one
 * describe block; stores it opens are closed after each test.
 */
export function describeStoreContract(name: string, subject: StoreContractSubject): void {
  describe(`AdapterStore contract: ${name}`, () => {
    const opened: AdapterStore[] = [];
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((store) => store.close()));
    });
    const open = async (options?: { headHash?: string }): Promise<ContractStore> => {
      const subjectStore = await subject.open(options);
      opened.push(subjectStore.store);
      return subjectStore;
    };

    it("answers undefined for an unknown user, and stores version 1, 2, ... with timestamps", async () => {
      const { store } = await open();
      expect(await store.get("alice")).toBeUndefined();
      const first = await store.update("alice", (current) => {
        expect(current).toBeUndefined();
        return draftFor(1);
      });
      expect(first).toMatchObject({ user: "alice", version: 1, k: SHAPE.k, m: SHAPE.m });
      expect(first.createdAt).toBe(first.updatedAt);
      expect(await store.get("alice")).toEqual(first);

      const second = await store.update("alice", (current) => {
        expect(current).toEqual(first);
        return draftFor(2);
      });
      expect(second.version).toBe(2);
      expect(second.createdAt).toBe(first.createdAt);
      const loaded = await store.get("alice");
      expect(loaded).toEqual(second);
      expect(seedOf(loaded!)).toBe(2);
    });

    it("keeps the adapter unchanged when the update throws or returns an invalid draft", async () => {
      const { store } = await open();
      const first = await store.update("bob", () => draftFor(1));
      const failure = new Error("fit failed");
      await expect(
        store.update("bob", () => {
          throw failure;
        }),
      ).rejects.toBe(failure);
      const wrongShape = { ...draftFor(2), k: SHAPE.k + 1 };
      expect((await rejection(store.update("bob", () => wrongShape))).code).toBe(
        "ADAPTER_SHAPE_MISMATCH",
      );
      const nonFinite = draftFor(2);
      nonFinite.W[0] = Number.NaN;
      expect((await rejection(store.update("bob", () => nonFinite))).code).toBe("INVALID_ADAPTER");
      expect(await store.get("bob")).toEqual(first);
      expect((await store.update("bob", () => draftFor(2))).version).toBe(2);
    });

    it("refuses malformed user ids", async () => {
      const { store } = await open();
      expect((await rejection(store.get("no spaces"))).code).toBe("INVALID_USER_ID");
      expect((await rejection(store.update("../x", () => draftFor(1)))).code).toBe(
        "INVALID_USER_ID",
      );
      expect((await rejection(store.delete(""))).code).toBe("INVALID_USER_ID");
    });

    it("deletes everything stored for a user, idempotently", async () => {
      const { store } = await open();
      await store.update("carol", () => draftFor(1));
      await store.update("carol", () => draftFor(2));
      await store.update("dave", () => draftFor(7));
      expect(await store.delete("carol")).toBe(true);
      expect(await store.get("carol")).toBeUndefined();
      expect(await store.delete("carol")).toBe(false);
      expect(await store.delete("nobody")).toBe(false);
      expect(seedOf((await store.get("dave"))!)).toBe(7);
      const again = await store.update("carol", (current) => {
        expect(current).toBeUndefined();
        return draftFor(3);
      });
      expect(again.version).toBe(1);
    });

    it("counts users with an adapter through creates, updates and deletes", async () => {
      const { store } = await open();
      expect(await store.count()).toBe(0);
      await store.update("u1", () => draftFor(1));
      await store.update("u1", () => draftFor(2));
      await store.update("u2", () => draftFor(1));
      expect(await store.count()).toBe(2);
      await store.delete("u1");
      await store.delete("u1");
      await store.delete("u3");
      expect(await store.count()).toBe(1);
      await store
        .update("u2", () => {
          throw new Error("no change");
        })
        .catch(() => undefined);
      expect(await store.count()).toBe(1);
    });

    it("serializes concurrent updates of one user: none is lost, each sees the one before", async () => {
      const handle = await open();
      const stores = [handle.store];
      if (handle.peer !== undefined) {
        const peer = await handle.peer();
        opened.push(peer);
        stores.push(peer);
      }
      const seen: number[] = [];
      const updates = 24;
      const results = await Promise.all(
        Array.from({ length: updates }, (_, i) =>
          stores[i % stores.length]!.update("erin", async (current) => {
            await new Promise((resolve) => setTimeout(resolve, i % 3));
            return counting(current);
          }),
        ),
      );
      for (const adapter of results) seen.push(adapter.metrics["sawVersion"]!);
      const final = await handle.store.get("erin");
      expect(final?.version).toBe(updates);
      expect(final?.metrics["updates"]).toBe(updates);
      expect(results.map((a) => a.version).sort((a, b) => a - b)).toEqual(
        Array.from({ length: updates }, (_, i) => i + 1),
      );
      expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: updates }, (_, i) => i));
      expect(await handle.store.count()).toBe(1);
    });

    it("fails only the user whose stored adapter is corrupt", async () => {
      const { store, corrupt } = await open();
      await store.update("frank", () => draftFor(1));
      await store.update("grace", () => draftFor(2));
      await corrupt("frank");
      expect((await rejection(store.get("frank"))).code).toBe("ADAPTER_CORRUPT");
      expect((await rejection(store.update("frank", () => draftFor(3)))).code).toBe(
        "ADAPTER_CORRUPT",
      );
      expect(seedOf((await store.get("grace"))!)).toBe(2);
      expect((await store.update("grace", () => draftFor(3))).version).toBe(2);
      expect(await store.update("heidi", () => draftFor(4))).toMatchObject({ version: 1 });
      expect(await store.delete("frank")).toBe(true);
      expect(await store.get("frank")).toBeUndefined();
      expect((await store.update("frank", () => draftFor(5))).version).toBe(1);
    });

    it("replaces an unreadable adapter only when asked, with a version above every earlier one", async () => {
      const { store, corrupt } = await open();
      for (let seed = 1; seed <= 3; seed++) await store.update("judy", () => draftFor(seed));
      await corrupt("judy");
      expect((await rejection(store.update("judy", () => draftFor(4)))).code).toBe(
        "ADAPTER_CORRUPT",
      );
      const before = Date.now();
      const seen: (Adapter | undefined)[] = [];
      const replaced = await store.update(
        "judy",
        (current) => {
          seen.push(current);
          return draftFor(4);
        },
        { unreadable: "replace" },
      );
      expect(seen.every((current) => current === undefined)).toBe(true);
      // Nothing readable is left of the version: one above any counted version follows.
      expect(replaced.version).toBeGreaterThan(3);
      if (replaced.version !== 4) expect(replaced.version).toBeGreaterThan(before);
      expect(await store.get("judy")).toEqual(replaced);
      expect(seedOf((await store.get("judy"))!)).toBe(4);
      const next = await store.update("judy", () => draftFor(5));
      expect(next.version).toBe(replaced.version + 1);
      expect(await store.count()).toBe(1);
      // A readable adapter is never replaced by that option's path: it is the current one.
      const again = await store.update(
        "judy",
        (current) => {
          expect(current?.version).toBe(next.version);
          return draftFor(6);
        },
        { unreadable: "replace" },
      );
      expect(again.version).toBe(next.version + 1);
    });

    it("follows the version a damaged record still shows when it replaces it", async () => {
      const { store, corrupt } = await open();
      for (let seed = 1; seed <= 3; seed++) await store.update("karl", () => draftFor(seed));
      const stored = (await store.get("karl"))!;
      const damaged = { ...stored, W: stored.W.slice() };
      damaged.W[1] = Number.NaN;
      await corrupt("karl", encodeAdapter(damaged));
      expect((await rejection(store.get("karl"))).code).toBe("ADAPTER_CORRUPT");
      const replaced = await store.update("karl", () => draftFor(9), { unreadable: "replace" });
      expect(replaced.version).toBe(4);
      expect(replaced.createdAt).toBe(stored.createdAt);
      expect(seedOf((await store.get("karl"))!)).toBe(9);
    });

    it("reads an adapter of another head whatever its shape, and writes the next version over it", async () => {
      const { store, put } = await open({ headHash: HEAD_HASH });
      await put(otherHeadAdapter("leo", 6));
      const stale = await store.get("leo");
      expect(stale).toMatchObject({ k: 8, m: 2, version: 6, headHash: "another-head-of-rank-8" });
      expect(stale?.pairs?.o.length).toBe(3);
      if (store.getWeights !== undefined) {
        expect(await store.getWeights("leo")).toEqual({
          user: "leo",
          version: 6,
          headHash: "another-head-of-rank-8",
          k: SHAPE.k,
          m: SHAPE.m,
          W: new Float32Array(P),
        });
      }
      const refit = await store.update("leo", (current) => {
        expect(current?.k).toBe(8);
        return draftFor(7);
      });
      expect(refit).toMatchObject({ version: 7, k: SHAPE.k, headHash: HEAD_HASH });
      expect(refit.createdAt).toBe("2025-01-02T03:04:05.000Z");
      // An adapter of the served head's own hash must still have its shape.
      await put({ ...otherHeadAdapter("mia", 1), headHash: HEAD_HASH });
      expect((await rejection(store.get("mia"))).code).toBe("ADAPTER_SHAPE_MISMATCH");
      // A store writes only adapters of its head's shape, whatever their head.
      const wrongShape = { ...otherHeadAdapter("nina", 1) } as Partial<Adapter>;
      delete wrongShape.user;
      delete wrongShape.version;
      expect((await rejection(store.update("nina", () => wrongShape as AdapterDraft))).code).toBe(
        "ADAPTER_SHAPE_MISMATCH",
      );
    });

    it("refuses calls once closed", async () => {
      const { store } = await open();
      await store.update("ivan", () => draftFor(1));
      await store.close();
      expect((await rejection(store.get("ivan"))).code).toBe("STORE_UNAVAILABLE");
    });
  });
}
