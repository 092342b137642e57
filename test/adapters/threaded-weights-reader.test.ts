import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { describe, expect, it } from "vitest";
import { adapterPath, rootPrefix } from "../../src/adapters/file/paths.js";
import { FileAdapterStore } from "../../src/adapters/file/store.js";
import {
  CLOSE_WAIT_MS,
  ThreadedWeightsReader,
} from "../../src/adapters/file/threaded-weights-reader.js";
import { DEFAULT_MAX_ADAPTER_BYTES } from "../../src/adapters/format.js";
import { stalledAdapterFile } from "../helpers/stalled-file.js";
import { draftFor, SHAPE } from "./fixtures/adapter-data.js";
import { useTempDirs } from "./fixtures/temp-dirs.js";

const tempDir = useTempDirs();

/** A store with users u0..u(n-1) (W from draftFor(i + 1)) and a corrupt file for "broken". */
async function fixture(users: number): Promise<{ root: string; reader: ThreadedWeightsReader }> {
  const root = await tempDir();
  const store = await FileAdapterStore.open({ root, shape: SHAPE, weightReads: "sync" });
  for (let i = 0; i < users; i++) await store.update(`u${i}`, () => draftFor(i + 1));
  await store.close();
  const broken = adapterPath(root, "broken");
  await mkdir(dirname(broken), { recursive: true });
  await writeFile(broken, "not a safetensors file");
  const reader = new ThreadedWeightsReader({
    prefix: rootPrefix(root),
    shape: SHAPE,
    maxBytes: DEFAULT_MAX_ADAPTER_BYTES,
  });
  return { root, reader };
}

describe("ThreadedWeightsReader", () => {
  it("answers many users read together, each with their own outcome", async () => {
    const { reader } = await fixture(40);
    const users = [...Array.from({ length: 40 }, (_, i) => `u${i}`), "nobody", "broken", "u3"];
    const outcomes = await Promise.allSettled(users.map((user) => reader.read(user)));
    outcomes.slice(0, 40).forEach((outcome, i) => {
      expect(outcome.status).toBe("fulfilled");
      const weights = (outcome as PromiseFulfilledResult<unknown>).value;
      expect(weights).toEqual({
        user: `u${i}`,
        version: 1,
        headHash: draftFor(1).headHash,
        k: SHAPE.k,
        m: SHAPE.m,
        W: draftFor(i + 1).W,
      });
    });
    expect(outcomes[40]).toEqual({ status: "fulfilled", value: undefined });
    expect(outcomes[41]).toMatchObject({
      status: "rejected",
      reason: { code: "ADAPTER_CORRUPT", user: "broken" },
    });
    expect((outcomes[42] as PromiseFulfilledResult<{ W: Float32Array }>).value.W).toEqual(
      draftFor(4).W,
    );
    await reader.close();
  });

  it("keeps answering reads spread over time, one at a time", async () => {
    const { reader } = await fixture(3);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 3; i++)
        expect((await reader.read(`u${i}`))?.W).toEqual(draftFor(i + 1).W);
    }
    await reader.close();
  });

  it("fails only the batch in flight when its thread dies, then starts a new one", async () => {
    const { root, reader } = await fixture(8);
    await reader.read("u0");
    const { release } = await stalledAdapterFile(root, "stalled");
    const users = ["u1", "stalled", "u2"];
    const inFlight = Promise.allSettled(users.map((user) => reader.read(user)));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const killed = reader.kill();
    // Unblock the open so the thread can take its termination.
    await release();
    await killed;
    for (const outcome of await inFlight) {
      expect(outcome).toMatchObject({ status: "rejected", reason: { code: "STORE_UNAVAILABLE" } });
    }
    expect((await reader.read("u5"))?.W).toEqual(draftFor(6).W);
    await reader.close();
  });

  it("closes without waiting for a thread stuck on a stalled disk", async () => {
    const { root, reader } = await fixture(1);
    await reader.read("u0");
    const { release } = await stalledAdapterFile(root, "stalled");
    const stuck = reader.read("stalled").catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = performance.now();
    await reader.close();
    expect(performance.now() - started).toBeLessThan(CLOSE_WAIT_MS + 500);
    expect(await stuck).toMatchObject({ code: "STORE_UNAVAILABLE" });
    await release();
  });

  it("refuses reads once closed", async () => {
    const { reader } = await fixture(1);
    const pending = reader.read("u0");
    await reader.close();
    await expect(pending).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
    await expect(reader.read("u0")).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
  });
});
