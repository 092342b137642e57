import { afterAll, beforeAll, expect, it } from "vitest";
import { toDraft } from "../../src/adapters/import.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { pairs } from "../ops/fixtures.js";
import { testAdapter } from "./adapter-file.js";
import { describeWithRedis, RedisServer } from "./redis-server.js";

const ITEMS = [{ prompt: "Summarize: the cat sat on the mat.", response: "A cat sat." }];

async function until(condition: () => boolean, deadlineMs: number): Promise<boolean> {
  const deadline = performance.now() + deadlineMs;
  while (!condition()) {
    if (performance.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}

describeWithRedis("a fit that fails while Redis is down", () => {
  let redis: RedisServer;
  let server: TestServer;

  beforeAll(async () => {
    redis = await RedisServer.start({ durable: true });
    server = await startTestServer({ adapters: redis.url(0, "outage-fit:") });
  });

  afterAll(async () => {
    await server?.close();
    await redis?.stop();
  });

  it("keeps the user's cached adapter: scoring stays 200, possibly stale, through the outage", async () => {
    const { runtime } = server.server;
    await runtime.adapters.update("cached", () => toDraft(testAdapter("cached", runtime.head, 1)));
    // Scores go on in the background while Redis is killed: traffic does not pause for an outage.
    const statuses: number[] = [];
    let running = true;
    const traffic = (async () => {
      while (running) {
        const { status } = await server.post("/v1/score", { user: "cached", items: ITEMS });
        statuses.push(status);
      }
    })();
    try {
      expect(await until(() => statuses.length >= 3, 30_000)).toBe(true);
      await redis.kill();
      expect(await until(() => !runtime.store.healthy!(), 5000)).toBe(true);

      const fit = await server.post("/v1/users/cached/fit", { pairs: pairs(4, "outage") });
      expect(fit.status).toBe(503);
      expect(fit.body.code).toBe("STORE_UNAVAILABLE");

      for (let i = 0; i < 5; i++) {
        const score = await server.post("/v1/score", { user: "cached", items: ITEMS });
        expect(score.status).toBe(200);
        expect(score.body).toMatchObject({
          personalized: true,
          adapter_version: 1,
          adapter_possibly_stale: true,
        });
      }
      // The replica still serves: /ready says degraded, not 503.
      const ready = await server.get("/ready");
      expect(ready.status).toBe(200);
      expect(ready.body.status).toBe("degraded");
      expect(ready.body.reasons.join(" ")).toMatch(/unreachable/);
      const during = statuses.length;
      expect(await until(() => statuses.length >= during + 3, 30_000)).toBe(true);

      await redis.restart();
      expect(await until(() => runtime.store.healthy!(), 15_000)).toBe(true);
      const back = await server.post("/v1/score", { user: "cached", items: ITEMS });
      expect(back.status).toBe(200);
      expect(back.body).toMatchObject({ personalized: true, adapter_version: 1 });
      expect(back.body.adapter_possibly_stale).toBeUndefined();
      const refit = await server.post("/v1/users/cached/fit", { pairs: pairs(4, "after") });
      expect(refit.status).toBe(200);
      const after = await server.post("/v1/score", { user: "cached", items: ITEMS });
      expect(after.body).toMatchObject({ personalized: true, adapter_version: 2 });
    } finally {
      running = false;
      await traffic;
    }
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
  });
});
