import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FileAdapterStore } from "../../src/adapters/file/store.js";
import { toDraft } from "../../src/adapters/import.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { stalledAdapterFile } from "../helpers/stalled-file.js";
import { testAdapter } from "../redis/adapter-file.js";

const ITEMS = [{ prompt: "Summarize: the cat sat on the mat.", response: "A cat sat." }];
const READ_TIMEOUT_MS = 300;
const REQUEST_TIMEOUT_MS = 5000;

/** Series → value, from the Prometheus text format. */
function metric(text: string, name: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.slice(name.length + 1));
}

describe("an adapter read that stalls (a named pipe for a hung disk)", () => {
  let t: TestServer;
  const users = ["frank", "bob", "carol", "dave", "erin"];

  beforeAll(async () => {
    t = await startTestServer({
      adapterReadTimeoutMs: READ_TIMEOUT_MS,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
    });
    // Written by another process: on disk, never read by the server, so not in its cache.
    const { head } = t.server.runtime;
    const files = await FileAdapterStore.open({ root: t.adaptersDir, shape: head });
    for (const [i, user] of users.entries()) {
      await files.update(user, () => toDraft(testAdapter(user, head, i + 1)));
    }
    await files.close();
  });

  afterAll(async () => {
    await t?.close();
  });

  it("fails its own user with 503 and Retry-After, serves the others, says so, and recovers", async () => {
    const pipe = await stalledAdapterFile(t.adaptersDir, "frank");
    try {
      const started = performance.now();
      const [stalled, bob] = await Promise.all([
        t.post("/v1/score", { user: "frank", items: ITEMS }),
        t.post("/v1/score", { user: "bob", items: ITEMS }),
      ]);
      // bob's read shared the stuck batch or queued behind it: served on a fresh thread.
      expect(bob.status).toBe(200);
      expect(bob.body).toMatchObject({ personalized: true, adapter_version: 1 });
      expect(stalled.status).toBe(503);
      expect(stalled.body).toMatchObject({ code: "STORE_UNAVAILABLE", status: 503 });
      expect(stalled.body.detail).toContain("stalled");
      expect(stalled.body.retry_after_s).toBeGreaterThanOrEqual(1);
      expect(Number(stalled.headers.get("retry-after"))).toBe(stalled.body.retry_after_s);
      expect(performance.now() - started).toBeLessThan(REQUEST_TIMEOUT_MS - 1000);

      // Later batches, and other users, are served at once.
      for (const user of ["carol", "dave"]) {
        const started = performance.now();
        const later = await t.post("/v1/score", { user, items: ITEMS });
        expect(later.status, user).toBe(200);
        expect(later.body.personalized, user).toBe(true);
        expect(performance.now() - started).toBeLessThan(READ_TIMEOUT_MS);
      }
      // The stalled user fails at once until its retry time instead of tying up another thread.
      const again = await t.post("/v1/score", { user: "frank", items: ITEMS });
      expect(again.status).toBe(503);

      const ready = await t.get("/ready");
      expect(ready.status).toBe(200);
      expect(ready.body.status).toBe("degraded");
      expect(ready.body.reasons.join(" ")).toMatch(/stalled/);
      expect(JSON.stringify(ready.body)).not.toContain("frank");
      const metrics = (await t.get("/metrics")).body as string;
      expect(metric(metrics, "sharelora_adapter_read_stalls_total")).toBe(1);
      expect(metric(metrics, "sharelora_adapter_reader_threads_stuck")).toBe(1);

      // The pipe goes and the file comes back: the user is served again after the retry time,
      // although the thread that opened the pipe is still blocked on it.
      await pipe.moveAway();
      const { head } = t.server.runtime;
      const files = await FileAdapterStore.open({ root: t.adaptersDir, shape: head });
      await files.update("frank", () => toDraft(testAdapter("frank", head, 9)));
      await files.close();
      await new Promise((resolve) => setTimeout(resolve, stalled.body.retry_after_s * 1000));
      const back = await t.post("/v1/score", { user: "frank", items: ITEMS });
      expect(back.status).toBe(200);
      expect(back.body).toMatchObject({ personalized: true, adapter_version: 1 });
      const erin = await t.post("/v1/score", { user: "erin", items: ITEMS });
      expect(erin.status).toBe(200);
    } finally {
      await pipe.release();
    }
    // Its read returned: the thread left behind exits and the store is whole again.
    const deadline = performance.now() + 5000;
    while (t.server.runtime.store.readStalls?.().stuckThreads !== 0) {
      if (performance.now() > deadline) throw new Error("the stuck reader thread did not exit");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect((await t.get("/ready")).body).toEqual({ status: "ready" });
  });

  it("answers /ready 503 only when no reader thread is left (every one stuck)", async () => {
    const { adapters } = t.server.runtime;
    const saturated = {
      stalls: 8,
      stuckThreads: 8,
      threadsInReads: 8,
      stalledUsers: 8,
      saturated: true,
    };
    Object.assign(adapters, { readStalls: () => saturated });
    try {
      const ready = await t.get("/ready");
      expect(ready.status).toBe(503);
      expect(ready.body).toMatchObject({ code: "STORE_UNAVAILABLE", retry_after_s: 1 });
      expect(ready.headers.get("retry-after")).toBe("1");
      expect(ready.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    } finally {
      delete (adapters as { readStalls?: unknown }).readStalls;
    }
    expect((await t.get("/ready")).status).toBe(200);
  });
});
