import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, expect, it } from "vitest";
import { testAdapterFile } from "./adapter-file.js";
import { describeWithRedis, freePort, RedisServer } from "./redis-server.js";
import { REPO_ROOT, ServerProcess } from "./server-process.js";

const ITEMS = [
  { prompt: "What is the capital of France?", response: "Paris." },
  { prompt: "What is the capital of France?", response: "I would rather not say." },
];

async function poll<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  deadlineMs: number,
): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  for (;;) {
    const value = await read();
    const ms = performance.now() - started;
    if (done(value) || ms > deadlineMs) return { value, ms };
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function healthcheck(port: number): number | null {
  return spawnSync(process.execPath, ["docker/healthcheck.mjs"], {
    cwd: REPO_ROOT,
    env: { ...process.env, SHARELORA_HOST: "0.0.0.0", SHARELORA_PORT: String(port) },
    timeout: 15_000,
  }).status;
}

describeWithRedis("two server processes sharing one Redis", () => {
  let redis: RedisServer;
  let a: ServerProcess;
  let b: ServerProcess;
  let head: { hash: string; k: number; m: number };

  beforeAll(async () => {
    redis = await RedisServer.start();
    const flags = ["--adapters", redis.url(0, "replicas:")];
    [a, b] = await Promise.all([ServerProcess.start(flags), ServerProcess.start(flags)]);
    const info = (await a.json("GET", "/v1/info")).body;
    head = { hash: info.head.hash, k: info.head.k, m: info.model.m };
  });

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await redis?.stop();
  });

  const score = (server: ServerProcess, user: string) =>
    server.json("POST", "/v1/score", { user, items: ITEMS });

  it("serves on one replica, within 1 s, the adapter imported or deleted on the other", async () => {
    const global = await score(b, "alice");
    expect(global.status).toBe(200);
    // B now remembers alice as unknown (for 2 s): only an invalidation makes it look again in time.
    expect(global.body).toMatchObject({ personalized: false, adapter_version: null });

    const put = await a.json("PUT", "/v1/users/alice/adapter", testAdapterFile("alice", head, 0.5));
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body.version).toBe(1);
    const first = await poll(
      () => score(b, "alice"),
      (r) => r.body.adapter_version === 1,
      1000,
    );
    expect(first.value.body, `B after ${Math.round(first.ms)} ms`).toMatchObject({
      personalized: true,
      adapter_version: 1,
    });
    expect(first.value.body.rewards).not.toEqual(global.body.rewards);

    const second = await a.json(
      "PUT",
      "/v1/users/alice/adapter",
      testAdapterFile("alice", head, -2),
    );
    expect(second.body.version).toBe(2);
    const updated = await poll(
      () => score(b, "alice"),
      (r) => r.body.adapter_version === 2,
      1000,
    );
    expect(updated.value.body.adapter_version, `B after ${Math.round(updated.ms)} ms`).toBe(2);
    expect(updated.value.body.rewards).not.toEqual(first.value.body.rewards);
    expect((await score(a, "alice")).body.rewards).toEqual(updated.value.body.rewards);

    expect((await a.json("GET", "/v1/users/alice")).body.version).toBe(2);
    expect((await b.json("DELETE", "/v1/users/alice")).status).toBe(204);
    const deleted = await poll(
      () => score(a, "alice"),
      (r) => r.body.personalized === false,
      1000,
    );
    expect(deleted.value.body, `A after ${Math.round(deleted.ms)} ms`).toMatchObject({
      personalized: false,
      adapter_version: null,
    });
    expect(deleted.value.body.rewards).toEqual(global.body.rewards);
  });

  it("passes the image's healthcheck script while ready, and fails it where nothing listens", async () => {
    expect(healthcheck(a.port)).toBe(0);
    expect(healthcheck(await freePort())).toBe(1);
  });
});
