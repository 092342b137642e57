import { spawnSync } from "node:child_process";
import { mkdir, readdir, readFile, stat, utimes, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { adapterPath } from "../../src/adapters/file/paths.js";
import { FileAdapterStore, WEIGHT_READS } from "../../src/adapters/file/store.js";
import { WEIGHTS_READ_BYTES } from "../../src/adapters/file/weights-read.js";
import { encodeAdapter } from "../../src/adapters/format.js";
import { importAdapterFile } from "../../src/adapters/import.js";
import type { Adapter } from "../../src/adapters/types.js";
import { userHash } from "../../src/adapters/user-hash.js";
import { decodeSafetensors, encodeSafetensors } from "../../src/model/safetensors.js";
import { draftFor, P, SHAPE, seedOf } from "./fixtures/adapter-data.js";
import { useTempDirs } from "./fixtures/temp-dirs.js";

const tempDir = useTempDirs();

async function openStore(root?: string, options: { maxFileBytes?: number } = {}) {
  return FileAdapterStore.open({ root: root ?? (await tempDir()), shape: SHAPE, ...options });
}

async function rejection(promise: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code?: string; message: string };
  }
  throw new Error("expected a rejection");
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** Seeds in these tests are versions: update n writes draftFor(n). */
const nextVersionDraft = (current: Adapter | undefined) => draftFor((current?.version ?? 0) + 1);

describe("FileAdapterStore", () => {
  it("stores and loads an adapter, assigning version and timestamps", async () => {
    const store = await openStore();
    expect(await store.get("alice")).toBeUndefined();
    const first = await store.update("alice", () => draftFor(1));
    expect(first).toMatchObject({
      user: "alice",
      version: 1,
      nPairs: 3,
      headHash: draftFor(1).headHash,
    });
    expect(first.createdAt).toBe(first.updatedAt);
    expect(await store.get("alice")).toEqual(first);

    const second = await store.update("alice", (current) => {
      expect(current).toEqual(first);
      return draftFor(2);
    });
    expect(second.version).toBe(2);
    expect(second.createdAt).toBe(first.createdAt);
    expect(Date.parse(second.updatedAt)).toBeGreaterThanOrEqual(Date.parse(first.updatedAt));
    expect(seedOf((await store.get("alice"))!)).toBe(2);
    await store.close();
  });

  it("keeps what it stores apart from the arrays the caller handed in", async () => {
    const store = await openStore();
    const draft = draftFor(1);
    const stored = await store.update("alice", () => draft);
    draft.W.fill(99);
    expect(stored.W[0]).toBe(1);
    expect((await store.get("alice"))!.W[0]).toBe(1);
  });

  it("files adapters under sha256(user), never under the raw id", async () => {
    const root = await tempDir();
    const store = await openStore(root);
    await store.update("bob@example.com", () => draftFor(1));
    const files = await filesUnder(root);
    expect(files).toEqual([adapterPath(root, "bob@example.com")]);
    expect(files[0]).toContain(userHash("bob@example.com"));
    expect(files[0]).not.toContain("bob");
  });

  it("refuses invalid user ids", async () => {
    const store = await openStore();
    for (const call of [
      store.get("../x"),
      store.update("a b", () => draftFor(1)),
      store.delete(""),
    ]) {
      expect((await rejection(call)).code).toBe("INVALID_USER_ID");
    }
  });

  describe("with a damaged file for one user", () => {
    const damages: [string, (root: string) => Promise<Uint8Array>, string][] = [
      [
        "truncated",
        async (root) => (await readFile(adapterPath(root, "alice"))).subarray(0, 200),
        "ADAPTER_CORRUPT",
      ],
      ["empty", async () => new Uint8Array(0), "ADAPTER_CORRUPT"],
      [
        "of another shape",
        async () => {
          const adapter = { ...draftFor(1), k: 2, W: new Float32Array(2 * SHAPE.m) };
          delete adapter.posterior;
          delete adapter.pairs;
          return encodeAdapter({
            ...adapter,
            user: "mallory",
            version: 1,
            createdAt: "2025-01-01T00:00:00Z",
            updatedAt: "2025-01-01T00:00:00Z",
          });
        },
        "ADAPTER_SHAPE_MISMATCH",
      ],
      [
        "holding a NaN",
        async () => {
          const adapter = {
            ...draftFor(1),
            user: "mallory",
            version: 1,
            createdAt: "2025-01-01T00:00:00Z",
            updatedAt: "2025-01-01T00:00:00Z",
          };
          adapter.W[2] = Number.NaN;
          return encodeAdapter(adapter);
        },
        "ADAPTER_CORRUPT",
      ],
      [
        "with an oversized header",
        async (root) => {
          const file = decodeSafetensors(
            new Uint8Array(await readFile(adapterPath(root, "alice"))),
          );
          file.metadata["user"] = "mallory";
          file.metadata["junk"] = "j".repeat(65 * 1024);
          return encodeSafetensors(file.tensors, file.metadata);
        },
        "ADAPTER_CORRUPT",
      ],
      ["of another user", async (root) => readFile(adapterPath(root, "alice")), "ADAPTER_CORRUPT"],
    ];

    for (const [name, damage, code] of damages) {
      it(`${name}: fails for that user only`, async () => {
        const root = await tempDir();
        const store = await openStore(root);
        await store.update("alice", () => draftFor(1));
        const path = adapterPath(root, "mallory");
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, await damage(root));

        const error = await rejection(store.get("mallory"));
        expect(error.code).toBe(code);
        for (const weightReads of WEIGHT_READS) {
          const reader = await FileAdapterStore.open({ root, shape: SHAPE, weightReads });
          const weightsError = await rejection(reader.getWeights("mallory"));
          expect(weightsError.code).toBe(code);
          expect(weightsError.message).toContain("mallory");
          expect(weightsError.message).not.toContain(root);
          expect((await reader.getWeights("alice"))?.version).toBe(1);
          await reader.close();
        }
        expect(error.message).toContain("mallory");
        expect(error.message).not.toContain("alice");
        expect(error.message).not.toContain(root);
        expect(seedOf((await store.get("alice"))!)).toBe(1);
        // An update cannot build on a file it cannot read; delete clears it.
        expect((await rejection(store.update("mallory", () => draftFor(1)))).code).toBe(code);
        expect(await store.delete("mallory")).toBe(true);
        expect((await store.update("mallory", () => draftFor(1))).version).toBe(1);
      });
    }
  });

  for (const weightReads of WEIGHT_READS) {
    it(`reads the weights alone (${weightReads} reads)`, async () => {
      const root = await tempDir();
      const store = await FileAdapterStore.open({ root, shape: SHAPE, weightReads });
      expect(store.weightReads).toBe(weightReads);
      // 600 pairs make a file larger than the first read, so the reader has to ask for more.
      for (const [user, pairs] of [
        ["small", 3],
        ["large", 600],
      ] as const) {
        const stored = await store.update(user, () => draftFor(4, { pairs }));
        const weights = await store.getWeights(user);
        expect(weights).toEqual({
          user,
          version: 1,
          headHash: stored.headHash,
          k: SHAPE.k,
          m: SHAPE.m,
          W: stored.W,
        });
      }
      expect((await stat(adapterPath(root, "large"))).size).toBeGreaterThan(WEIGHTS_READ_BYTES);
      expect(await store.getWeights("nobody")).toBeUndefined();
      await expect(store.getWeights("../x")).rejects.toMatchObject({ code: "INVALID_USER_ID" });
      await store.close();
      await expect(store.getWeights("small")).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
    });

    it(`reports a path it cannot read as STORE_UNAVAILABLE, for that user only (${weightReads} reads)`, async () => {
      const root = await tempDir();
      const store = await FileAdapterStore.open({ root, shape: SHAPE, weightReads });
      await store.update("alice", () => draftFor(1));
      await mkdir(adapterPath(root, "bob"), { recursive: true });
      const error = await rejection(store.getWeights("bob"));
      expect(error).toMatchObject({ code: "STORE_UNAVAILABLE" });
      expect(error.message).toContain("bob");
      expect(error.message).not.toContain(root);
      expect(((error as Error).cause as NodeJS.ErrnoException).code).toBe("EISDIR");
      expect((await store.getWeights("alice"))?.version).toBe(1);
      await store.close();
    });
  }

  for (const weightReads of WEIGHT_READS) {
    it(`reads an adapter of another head and rank as stale, not broken (${weightReads} reads)`, async () => {
      const root = await tempDir();
      const p = 8 * 2;
      const cholesky = new Float64Array(p * p);
      for (let i = 0; i < p; i++) cholesky[i * p + i] = 1;
      const path = adapterPath(root, "bob");
      await mkdir(dirname(path), { recursive: true });
      await writeFile(
        path,
        encodeAdapter({
          user: "bob",
          version: 3,
          headHash: "head-of-rank-8",
          createdAt: "2025-01-01T00:00:00Z",
          updatedAt: "2025-01-01T00:00:00Z",
          k: 8,
          m: 2,
          W: new Float32Array(p).fill(1),
          nPairs: 1,
          metrics: {},
          posterior: { cholesky, lambda: 1 },
          pairs: { g: new Float32Array(p), o: new Float32Array(1) },
        }),
      );
      const store = await FileAdapterStore.open({
        root,
        shape: SHAPE,
        headHash: draftFor(1).headHash,
        weightReads,
      });
      expect(await store.getWeights("bob")).toEqual({
        user: "bob",
        version: 3,
        headHash: "head-of-rank-8",
        k: SHAPE.k,
        m: SHAPE.m,
        W: new Float32Array(P),
      });
      expect(await store.get("bob")).toMatchObject({ k: 8, m: 2, version: 3 });
      // Without the served head's hash the store cannot tell stale from broken: the old refusal.
      const blind = await FileAdapterStore.open({ root, shape: SHAPE, weightReads });
      expect((await rejection(blind.getWeights("bob"))).code).toBe("ADAPTER_SHAPE_MISMATCH");
      await blind.close();
      await store.close();
    });
  }

  it("replaces a file too large to read when asked, above the version its header shows", async () => {
    const root = await tempDir();
    const store = await openStore(root, { maxFileBytes: 4096 });
    await store.update("alice", () => draftFor(1));
    await store.update("alice", () => draftFor(2));
    const path = adapterPath(root, "alice");
    const bytes = await readFile(path);
    await writeFile(path, Buffer.concat([bytes, new Uint8Array(4096)]));
    expect((await rejection(store.get("alice"))).code).toBe("ADAPTER_CORRUPT");
    const replaced = await store.update("alice", () => draftFor(3), { unreadable: "replace" });
    expect(replaced.version).toBe(3);
    expect(seedOf((await store.get("alice"))!)).toBe(3);
    expect(await store.count()).toBe(1);
  });

  it("refuses a file over maxFileBytes without reading it, and refuses to write one", async () => {
    const root = await tempDir();
    const store = await openStore(root, { maxFileBytes: 4096 });
    await store.update("alice", () => draftFor(1));
    const path = adapterPath(root, "bob");
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, new Uint8Array(4097));
    expect((await rejection(store.get("bob"))).code).toBe("ADAPTER_CORRUPT");
    const tooBig = await rejection(store.update("carol", () => draftFor(1, { pairs: 200 })));
    expect(tooBig.code).toBe("INVALID_ADAPTER");
    expect(await store.get("carol")).toBeUndefined();
  });

  it("changes nothing when the update function throws or returns an invalid draft", async () => {
    const root = await tempDir();
    const store = await openStore(root);
    await store.update("alice", () => draftFor(1));
    const before = await readFile(adapterPath(root, "alice"));
    await expect(
      store.update("alice", () => {
        throw new Error("fit failed");
      }),
    ).rejects.toThrow("fit failed");
    const nan = draftFor(2);
    nan.metrics["loss"] = Number.NaN;
    expect((await rejection(store.update("alice", () => nan))).code).toBe("INVALID_ADAPTER");
    const shape = { ...draftFor(2), m: 4 };
    expect((await rejection(store.update("alice", () => shape))).code).toBe(
      "ADAPTER_SHAPE_MISMATCH",
    );
    const short = { ...draftFor(2), W: new Float32Array(P - 1) };
    expect((await rejection(store.update("alice", () => short))).code).toBe("INVALID_ADAPTER");
    expect((await rejection(store.update("bob", async () => nan))).code).toBe("INVALID_ADAPTER");

    expect(await readFile(adapterPath(root, "alice"))).toEqual(before);
    expect((await store.get("alice"))!.version).toBe(1);
    expect(await store.get("bob")).toBeUndefined();
    expect(await store.count()).toBe(1);
    expect((await filesUnder(root)).length).toBe(1);
  });

  it("deletes idempotently and keeps count in step", async () => {
    const root = await tempDir();
    const store = await openStore(root);
    expect(await store.count()).toBe(0);
    for (const user of ["a", "b", "c"]) await store.update(user, nextVersionDraft);
    await store.update("a", nextVersionDraft);
    expect(await store.count()).toBe(3);
    expect(await store.delete("b")).toBe(true);
    expect(await store.delete("b")).toBe(false);
    expect(await store.delete("never-seen")).toBe(false);
    expect(await store.get("b")).toBeUndefined();
    expect(await store.count()).toBe(2);
    expect((await store.update("b", nextVersionDraft)).version).toBe(1);
    await store.close();

    const reopened = await openStore(root);
    expect(await reopened.count()).toBe(3);
    expect((await reopened.get("a"))!.version).toBe(2);
  });

  it("imports a whole adapter file as the user's next version", async () => {
    const store = await openStore();
    await store.update("alice", nextVersionDraft);
    await store.update("alice", nextVersionDraft);
    const file = encodeAdapter({
      ...draftFor(40),
      user: "alice",
      version: 40,
      createdAt: "2020-01-01T00:00:00Z",
      updatedAt: "2020-01-01T00:00:00Z",
    });
    const imported = await importAdapterFile(store, "alice", file, { shape: SHAPE });
    expect(imported.version).toBe(3);
    expect(seedOf(imported)).toBe(40);
    expect(imported.createdAt).not.toBe("2020-01-01T00:00:00Z");

    const otherUser = await rejection(importAdapterFile(store, "bob", file, { shape: SHAPE }));
    expect(otherUser.code).toBe("INVALID_ADAPTER");
    const garbage = await rejection(
      importAdapterFile(store, "alice", file.subarray(0, 50), { shape: SHAPE }),
    );
    expect(garbage.code).toBe("INVALID_ADAPTER");
    expect((await store.get("alice"))!.version).toBe(3);
    expect(await store.get("bob")).toBeUndefined();
  });

  it("gives 20 concurrent updates of one user versions 1..20 with no lost update", async () => {
    const store = await openStore();
    const seen: number[] = [];
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        store.update("alice", async (current) => {
          seen.push(current?.version ?? 0);
          await new Promise((resolve) => setImmediate(resolve));
          return draftFor((current === undefined ? 0 : (seedOf(current) as number)) + 1);
        }),
      ),
    );
    expect(results.map((a) => a.version)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i));
    const last = (await store.get("alice"))!;
    expect(last.version).toBe(20);
    expect(seedOf(last)).toBe(20);
  });

  it("keeps a consistent state under racing updates, deletes and gets", async () => {
    const root = await tempDir();
    const store = await openStore(root);
    const users = ["u1", "u2", "u3"];
    // Per user, writes take effect in call order: a model replayed in that order predicts them.
    const model = new Map<string, number>();
    const expected: Promise<void>[] = [];
    let state = 12345;
    const random = () => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state / 2 ** 31;
    };
    for (let i = 0; i < 150; i++) {
      const user = users[Math.floor(random() * users.length)]!;
      const roll = random();
      if (roll < 0.45) {
        const version = (model.get(user) ?? 0) + 1;
        model.set(user, version);
        expected.push(
          store.update(user, nextVersionDraft).then((a) => {
            expect(a.version).toBe(version);
          }),
        );
      } else if (roll < 0.6) {
        const existed = model.delete(user);
        expected.push(
          store.delete(user).then((removed) => {
            expect(removed).toBe(existed);
          }),
        );
      } else {
        expected.push(
          store.get(user).then((a) => {
            if (a !== undefined) expect(seedOf(a)).toBe(a.version);
          }),
        );
      }
    }
    await Promise.all(expected);
    for (const user of users) {
      expect((await store.get(user))?.version).toBe(model.get(user));
    }
    expect(await store.count()).toBe(model.size);
    await store.close();
    expect(await (await openStore(root)).count()).toBe(model.size);
  });

  it("counts in the background at open; writes made meanwhile wait and are counted once", async () => {
    const root = await tempDir();
    const writer = await openStore(root);
    const users = Array.from({ length: 300 }, (_, i) => `user-${i}`);
    for (const user of users) await writer.update(user, () => draftFor(1));
    await writer.close();

    const store = await openStore(root);
    // Writes racing the scan: new users, rewrites of old ones, deletes of old ones.
    await Promise.all([
      ...Array.from({ length: 40 }, (_, i) => store.update(`new-${i}`, () => draftFor(1))),
      ...users.slice(0, 40).map((user) => store.update(user, nextVersionDraft)),
      ...users.slice(40, 70).map((user) => store.delete(user)),
    ]);
    expect(await store.count()).toBe(300 + 40 - 30);
    await store.update("late", () => draftFor(1));
    await store.delete("user-299");
    expect(await store.count()).toBe(310);
    expect((await filesUnder(root)).length).toBe(310);
  });

  it("stops its scan on close", async () => {
    const root = await tempDir();
    const writer = await openStore(root);
    for (let i = 0; i < 50; i++) await writer.update(`user-${i}`, () => draftFor(1));
    await writer.close();
    const store = await openStore(root);
    await store.close();
    await expect(store.scanned).resolves.toBeUndefined();
    expect((await rejection(store.count())).code).toBe("STORE_UNAVAILABLE");
  });

  it("refuses calls after close but finishes the writes already queued", async () => {
    const store = await openStore();
    const pending = store.update("alice", nextVersionDraft);
    const closing = store.close();
    expect((await rejection(store.get("alice"))).code).toBe("STORE_UNAVAILABLE");
    expect((await rejection(store.update("alice", nextVersionDraft))).code).toBe(
      "STORE_UNAVAILABLE",
    );
    expect((await pending).version).toBe(1);
    await closing;
  });

  describe("temp files left by crashed writers", () => {
    async function strayTemp(root: string, pid: number): Promise<string> {
      const target = adapterPath(root, "alice");
      const temp = join(
        dirname(target),
        `.${userHash("alice")}.safetensors.${pid}.0123456789ab.tmp`,
      );
      await writeFile(temp, new Uint8Array(10));
      return temp;
    }

    function deadPid(): number {
      const child = spawnSync(process.execPath, [
        "-e",
        "process.stdout.write(String(process.pid))",
      ]);
      return Number(child.stdout.toString());
    }

    it("are ignored on read and removed at open", async () => {
      const root = await tempDir();
      const store = await openStore(root);
      await store.update("alice", () => draftFor(1));
      const temps = [await strayTemp(root, deadPid()), await strayTemp(root, process.pid)];
      expect(seedOf((await store.get("alice"))!)).toBe(1);
      expect(await store.count()).toBe(1);

      const reopened = await openStore(root);
      await reopened.scanned;
      expect(await filesUnder(root)).toEqual([adapterPath(root, "alice")]);
      for (const temp of temps) await expect(stat(temp)).rejects.toMatchObject({ code: "ENOENT" });
      expect(await reopened.count()).toBe(1);
    });

    it("of the deleted user are removed by delete, others are not", async () => {
      const root = await tempDir();
      const store = await openStore(root);
      await store.update("alice", () => draftFor(1));
      const aliceTemp = await strayTemp(root, process.ppid);
      const bobTarget = adapterPath(root, "bob");
      await mkdir(dirname(bobTarget), { recursive: true });
      const bobTemp = join(
        dirname(bobTarget),
        `.${userHash("bob")}.safetensors.${process.ppid}.0123456789ab.tmp`,
      );
      await writeFile(bobTemp, new Uint8Array(10));
      expect(await store.delete("alice")).toBe(true);
      await expect(stat(aliceTemp)).rejects.toMatchObject({ code: "ENOENT" });
      expect((await stat(bobTemp)).isFile()).toBe(true);
      await store.update("alice", () => draftFor(1));
      await strayTemp(root, process.ppid);
      expect(await store.delete("alice")).toBe(true);
      expect(await filesUnder(root)).toEqual([bobTemp]);
    });

    it("of a live process are kept until they are old", async () => {
      const root = await tempDir();
      await (await openStore(root)).update("alice", () => draftFor(1));
      const temp = await strayTemp(root, process.ppid);
      await (await openStore(root)).scanned;
      expect((await stat(temp)).isFile()).toBe(true);
      const old = new Date(Date.now() - 120_000);
      await utimes(temp, old, old);
      await (await openStore(root)).scanned;
      await expect(stat(temp)).rejects.toMatchObject({ code: "ENOENT" });
    });
  });
});

describe("FileAdapterStore.open", () => {
  it("checks its options", async () => {
    const root = await tempDir();
    for (const shape of [{ k: 0, m: 2 }, { k: 2.5, m: 2 }, { k: 4 }, undefined]) {
      await expect(
        FileAdapterStore.open({ root, shape: shape as unknown as { k: number; m: number } }),
      ).rejects.toThrow(TypeError);
    }
    await expect(FileAdapterStore.open({ root, shape: SHAPE, maxFileBytes: 0 })).rejects.toThrow(
      TypeError,
    );
  });
});
