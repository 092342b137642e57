import { rm } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { adapterPath, rootPrefix } from "../../src/adapters/file/paths.js";
import { MAX_READER_THREADS, type ReadStallEvent } from "../../src/adapters/file/read-stall.js";
import { FileAdapterStore } from "../../src/adapters/file/store.js";
import { ThreadedWeightsReader } from "../../src/adapters/file/threaded-weights-reader.js";
import { DEFAULT_MAX_ADAPTER_BYTES } from "../../src/adapters/format.js";
import { stalledAdapterFile } from "../helpers/stalled-file.js";
import { draftFor, SHAPE } from "./fixtures/adapter-data.js";
import { useTempDirs } from "./fixtures/temp-dirs.js";

const tempDir = useTempDirs();
const TIMEOUT_MS = 150;

/** A store with users u0..u(n-1), W from draftFor(i + 1). */
async function writeUsers(root: string, users: number): Promise<void> {
  const store = await FileAdapterStore.open({ root, shape: SHAPE, weightReads: "sync" });
  for (let i = 0; i < users; i++) await store.update(`u${i}`, () => draftFor(i + 1));
  await store.close();
}

function reader(root: string, events: ReadStallEvent[] = []): ThreadedWeightsReader {
  return new ThreadedWeightsReader(
    { prefix: rootPrefix(root), shape: SHAPE, maxBytes: DEFAULT_MAX_ADAPTER_BYTES },
    { readTimeoutMs: TIMEOUT_MS, onStall: (event) => events.push(event) },
  );
}

async function until(condition: () => boolean, ms = 5000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("ThreadedWeightsReader with a read that stalls", () => {
  it("fails the stalled user alone, serves its batch and later ones, then the user again", async () => {
    const root = await tempDir();
    await writeUsers(root, 6);
    const events: ReadStallEvent[] = [];
    const r = reader(root, events);
    await r.read("u0"); // the thread is up
    const pipe = await stalledAdapterFile(root, "u1");
    try {
      const started = performance.now();
      const outcomes = await Promise.allSettled(["u2", "u1", "u3"].map((user) => r.read(user)));
      expect(performance.now() - started).toBeLessThan(TIMEOUT_MS + 1500);
      expect((outcomes[0] as PromiseFulfilledResult<{ W: Float32Array }>).value.W).toEqual(
        draftFor(3).W,
      );
      expect((outcomes[2] as PromiseFulfilledResult<{ W: Float32Array }>).value.W).toEqual(
        draftFor(4).W,
      );
      expect(outcomes[1]).toMatchObject({
        status: "rejected",
        reason: { code: "STORE_STALLED", user: "u1", retryAfterSeconds: 1 },
      });
      expect(events).toEqual([
        expect.objectContaining({ type: "stalled", user: "u1", stuckThreads: 1 }),
      ]);
      expect(r.readStalls()).toMatchObject({ stalls: 1, stuckThreads: 1, stalledUsers: 1 });

      // Later reads go to a fresh thread; the stalled user fails at once until its retry time.
      expect((await r.read("u4"))?.W).toEqual(draftFor(5).W);
      const refusedAt = performance.now();
      await expect(r.read("u1")).rejects.toMatchObject({ code: "STORE_STALLED" });
      await expect(r.readFile("u1")).rejects.toMatchObject({ code: "STORE_STALLED" });
      expect(performance.now() - refusedAt).toBeLessThan(50);
      expect(r.readStalls().stalls).toBe(1);

      // The pipe goes, the file comes back: after the retry time the user is served again,
      // while the first thread is still blocked on the pipe.
      await pipe.moveAway();
      const store = await FileAdapterStore.open({ root, shape: SHAPE, weightReads: "sync" });
      await store.update("u1", () => draftFor(42));
      await store.close();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect((await r.read("u1"))?.W).toEqual(draftFor(42).W);
      expect(r.readStalls()).toMatchObject({ stuckThreads: 1, stalledUsers: 0 });
    } finally {
      await pipe.release();
    }
    // Its read returned: the thread left behind exits.
    await until(() => r.readStalls().stuckThreads === 0);
    expect(events.at(-1)).toMatchObject({ type: "returned", stuckThreads: 0 });
    await r.close();
  });

  it("fails the user's reads queued behind the stalled one too, not on another thread", async () => {
    const root = await tempDir();
    await writeUsers(root, 3);
    const r = reader(root);
    await r.read("u0");
    const pipe = await stalledAdapterFile(root, "u1");
    try {
      const first = r.read("u1").catch((error: unknown) => error);
      await new Promise((resolve) => setTimeout(resolve, 30));
      const whole = r.readFile("u1").catch((error: unknown) => error);
      const other = r.read("u2");
      expect(await first).toMatchObject({ code: "STORE_STALLED", user: "u1" });
      expect(await whole).toMatchObject({ code: "STORE_STALLED", user: "u1" });
      expect((await other)?.W).toEqual(draftFor(3).W);
      expect(r.readStalls()).toMatchObject({ stalls: 1, stuckThreads: 1 });
      const file = await r.readFile("u0");
      expect(file).toBeInstanceOf(Uint8Array);
      expect(await r.readFile("nobody")).toBeUndefined();
    } finally {
      await pipe.release();
    }
    await until(() => r.readStalls().stuckThreads === 0);
    await r.close();
  });

  it("keeps at most MAX_READER_THREADS alive, fails reads at once beyond, and recovers", async () => {
    const root = await tempDir();
    await writeUsers(root, 2);
    const events: ReadStallEvent[] = [];
    const r = reader(root, events);
    const pipes = [];
    try {
      for (let i = 0; i < MAX_READER_THREADS; i++) {
        const user = `hung-${i}`;
        pipes.push(await stalledAdapterFile(root, user));
        await expect(r.read(user)).rejects.toMatchObject({ code: "STORE_STALLED", user });
      }
      expect(r.readStalls()).toMatchObject({
        stalls: MAX_READER_THREADS,
        stuckThreads: MAX_READER_THREADS,
        saturated: true,
      });
      expect(events.filter((e) => e.type === "saturated")).toEqual([
        { type: "saturated", stuckThreads: MAX_READER_THREADS },
      ]);
      const refused = await r.read("u0").catch((error: unknown) => error);
      expect(refused).toMatchObject({ code: "STORE_STALLED" });
      expect((refused as Error).message).not.toMatch(/hung-/);
      // One thread back: reads are served again.
      await pipes[0]!.release();
      await until(() => !r.readStalls().saturated);
      expect((await r.read("u0"))?.W).toEqual(draftFor(1).W);
    } finally {
      for (const pipe of pipes) await pipe.release();
    }
    await until(() => r.readStalls().stuckThreads === 0);
    await r.close();
  });

  it("bounds retries of a user whose file stays stalled, so others keep a thread", async () => {
    const root = await tempDir();
    await writeUsers(root, 1);
    const r = reader(root);
    const pipe = await stalledAdapterFile(root, "hung");
    try {
      let stalls = 0;
      // Each retry after the retry time ties up one more thread, up to a reserve.
      for (let attempt = 0; attempt < MAX_READER_THREADS - 1; attempt++) {
        const error = await r.read("hung").catch((e: unknown) => e);
        expect(error).toMatchObject({ code: "STORE_STALLED" });
        stalls = r.readStalls().stalls;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      expect(stalls).toBe(MAX_READER_THREADS - 2);
      expect(r.readStalls()).toMatchObject({ stuckThreads: stalls, saturated: false });
      expect((await r.read("u0"))?.W).toEqual(draftFor(1).W);
    } finally {
      await pipe.release();
    }
    await until(() => r.readStalls().stuckThreads === 0);
    await r.close();
  }, 30_000);
});

describe("FileAdapterStore with a read that stalls", () => {
  it("fails get() and update() of that user with STORE_STALLED, and serves the others", async () => {
    const root = await tempDir();
    await writeUsers(root, 2);
    const events: ReadStallEvent[] = [];
    const store = await FileAdapterStore.open({
      root,
      shape: SHAPE,
      readTimeoutMs: TIMEOUT_MS,
      onReadStall: (event) => events.push(event),
    });
    const pipe = await stalledAdapterFile(root, "u1");
    try {
      await expect(store.get("u1")).rejects.toMatchObject({ code: "STORE_STALLED", user: "u1" });
      expect((await store.get("u0"))?.W).toEqual(draftFor(1).W);
      await expect(store.update("u1", () => draftFor(5))).rejects.toMatchObject({
        code: "STORE_STALLED",
      });
      expect((await store.update("u0", () => draftFor(7))).version).toBe(2);
      expect(store.readStalls()).toMatchObject({ stalls: 1, stuckThreads: 1 });
      expect(events.map((e) => e.type)).toEqual(["stalled"]);

      // update() held the user's lock only until its read failed: once the file is back, the
      // next update goes through.
      await pipe.moveAway();
      await rm(adapterPath(root, "u1"), { force: true });
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect((await store.update("u1", () => draftFor(5))).version).toBe(1);
      expect((await store.get("u1"))?.W).toEqual(draftFor(5).W);
    } finally {
      await pipe.release();
    }
    await store.close();
  });

  it("reports no stalls when its reads have no thread", async () => {
    const store = await FileAdapterStore.open({
      root: await tempDir(),
      shape: SHAPE,
      weightReads: "sync",
    });
    expect(store.readStalls()).toEqual({
      stalls: 0,
      stuckThreads: 0,
      threadsInReads: 0,
      stalledUsers: 0,
      saturated: false,
    });
    await store.close();
  });

  it("refuses a read deadline that is not a positive integer", async () => {
    const root = await tempDir();
    await expect(FileAdapterStore.open({ root, shape: SHAPE, readTimeoutMs: 0 })).rejects.toThrow(
      /readTimeoutMs/,
    );
  });
});
