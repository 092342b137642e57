import { afterAll, beforeAll, expect, it } from "vitest";
import { toDraft } from "../../src/adapters/import.js";
import { RedisAdapterStore } from "../../src/adapters/redis/store.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { testAdapter } from "./adapter-file.js";
import { describeWithRedis, RedisServer } from "./redis-server.js";

const ITEMS = [{ prompt: "Summarize: the cat sat on the mat.", response: "A cat sat." }];
const CACHED = ["cached-0", "cached-1", "cached-2"];

async function until(condition: () => boolean, deadlineMs: number): Promise<boolean> {
  const deadline = performance.now() + deadlineMs;
  while (!condition()) {
    if (performance.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}

/** Scores cached users back to back until stopped, keeping every status. */
function loadOn(server: TestServer, workers: number) {
  const statuses: number[] = [];
  let running = true;
  const loops = Array.from({ length: workers }, async (_, w) => {
    for (let i = w; running; i++) {
      const user = CACHED[i % CACHED.length]!;
      const { status, body } = await server.post("/v1/score", { user, items: ITEMS });
      statuses.push(status);
      if (status === 200 && body.personalized !== true) statuses.push(-1);
    }
  });
  return {
    statuses,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

describeWithRedis("a server whose Redis is killed and restarted under load", () => {
  let redis: RedisServer;
  let server: TestServer;

  beforeAll(async () => {
    redis = await RedisServer.start({ durable: true });
    server = await startTestServer({ adapters: redis.url(0, "outage:") });
  });

  afterAll(async () => {
    await server?.close();
    await redis?.stop();
  });

  it("keeps serving cached users, answers 503 for the others while down, and recovers", async () => {
    const { runtime } = server.server;
    const head = runtime.head;
    for (const [i, user] of CACHED.entries()) {
      await runtime.adapters.update(user, () => toDraft(testAdapter(user, head, i + 1)));
    }
    // Written by another replica: in Redis, not in this server's memory.
    const other = await RedisAdapterStore.open({ url: redis.url(0, "outage:"), shape: head });
    await other.update("uncached", () => toDraft(testAdapter("uncached", head, 3)));
    await other.close();

    const load = loadOn(server, 3);
    try {
      await until(() => load.statuses.length >= 6, 30_000);
      await redis.kill();
      expect(await until(() => !runtime.store.healthy!(), 5000)).toBe(true);
      const before = load.statuses.length;

      const down = await server.post("/v1/score", { user: "uncached", items: ITEMS });
      expect(down.status).toBe(503);
      expect(down.body).toMatchObject({ code: "STORE_UNAVAILABLE", status: 503 });
      expect(down.body.detail).toContain("Redis is unreachable");
      const unknown = await server.post("/v1/score", { user: "newcomer", items: ITEMS });
      expect(unknown.body.code).toBe("STORE_UNAVAILABLE");
      const global = await server.post("/v1/score", { items: ITEMS });
      expect(global.status).toBe(200);
      const cached = await server.post("/v1/score", { user: "cached-0", items: ITEMS });
      expect(cached.body).toMatchObject({ personalized: true, adapter_version: 1 });
      expect(await runtime.scoring.personalization("cached-0")).toMatchObject({
        personalized: true,
        possiblyStale: true,
      });
      expect(await until(() => load.statuses.length >= before + 6, 30_000)).toBe(true);

      await redis.restart();
      expect(await until(() => runtime.store.healthy!(), 15_000)).toBe(true);
      const back = await server.post("/v1/score", { user: "uncached", items: ITEMS });
      expect(back.body).toMatchObject({ personalized: true, adapter_version: 1 });
      expect(await runtime.scoring.personalization("cached-1")).toMatchObject({
        personalized: true,
        possiblyStale: false,
      });
      const after = load.statuses.length;
      expect(await until(() => load.statuses.length >= after + 6, 30_000)).toBe(true);
    } finally {
      await load.stop();
    }
    expect(load.statuses.filter((status) => status !== 200)).toEqual([]);
  });
});
