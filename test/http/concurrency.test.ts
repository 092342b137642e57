import { PassThrough } from "node:stream";
import Fastify, { type FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { registerConcurrencyLimit } from "../../src/http/concurrency.js";
import { sendProblem } from "../../src/http/problem.js";
import { Batcher } from "../../src/inference/batcher.js";

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** The limit in front of `batcher`'s queue, a backbone route and one that is not. */
async function appWith(batcher: Batcher<number> | undefined, max = 8): Promise<FastifyInstance> {
  const built = Fastify();
  built.setErrorHandler((error, request, reply) => sendProblem(request, reply, error));
  registerConcurrencyLimit(built, { max, backbone: () => batcher });
  built.post("/v1/score", { config: { backbone: true } }, async (request) => ({
    echoed: request.body,
  }));
  built.get("/v1/users/:user", async () => ({ user: "alice" }));
  await built.ready();
  return built;
}

/**
 * A batcher of at most 2 waiting texts, one batch of one running until release(), and `waiting`
 * texts queued behind it.
 */
async function batcherWith(waiting: number) {
  let release = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const batcher = new Batcher<number>(
    async (batch) => {
      await held;
      return batch.map(() => 0);
    },
    { maxBatchTokens: 100, maxBatchSize: 1, maxWaitMs: 0, maxQueued: 2 },
  );
  const seq = { ids: [1, 2, 3] };
  const submitted = [batcher.submit(seq, "high")];
  await new Promise((resolve) => setTimeout(resolve, 1));
  for (let i = 0; i < waiting; i++) submitted.push(batcher.submit(seq, "high"));
  expect(batcher.size).toBe(waiting);
  return {
    batcher,
    release: async () => {
      release();
      await Promise.all(submitted);
    },
  };
}

const badJson = {
  method: "POST" as const,
  url: "/v1/score",
  headers: { "content-type": "application/json" },
  payload: "{ not json",
};

describe("registerConcurrencyLimit and the backbone queue", () => {
  it("refuses backbone routes while the queue is full, before reading their body", async () => {
    const queue = await batcherWith(2);
    app = await appWith(queue.batcher);
    const refused = await app.inject(badJson);
    expect(refused.statusCode).toBe(429);
    expect(refused.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(refused.json()).toMatchObject({ code: "OVERLOADED", retry_after_s: 1 });
    expect(refused.json().detail).toContain("backbone queue is full (2 texts)");
    // Routes that do not feed the backbone still answer.
    expect((await app.inject({ method: "GET", url: "/v1/users/alice" })).statusCode).toBe(200);
    await queue.release();
  });

  it("reads the body as usual while the queue has room, or before the model is loaded", async () => {
    const queue = await batcherWith(1);
    for (const batcher of [queue.batcher, undefined]) {
      app = await appWith(batcher);
      // The malformed body now reaches the parser: 400, not 429.
      expect((await app.inject(badJson)).statusCode).toBe(400);
      const ok = await app.inject({ method: "POST", url: "/v1/score", payload: { a: 1 } });
      expect(ok.json()).toEqual({ echoed: { a: 1 } });
      await app.close();
      app = undefined;
    }
    await queue.release();
  });
});

describe("registerConcurrencyLimit and request bodies", () => {
  it("takes the permit once the body is in: an unfinished upload holds none", async () => {
    app = await appWith(undefined, 1);
    const upload = new PassThrough();
    const slow = app.inject({
      method: "POST",
      url: "/v1/score",
      headers: { "content-type": "application/json" },
      payload: upload,
    });
    upload.write('{"a":');
    await new Promise((resolve) => setTimeout(resolve, 20));
    const other = await app.inject({ method: "POST", url: "/v1/score", payload: { b: 2 } });
    expect(other.statusCode).toBe(200);
    expect(other.json()).toEqual({ echoed: { b: 2 } });
    upload.end("1}");
    expect((await slow).json()).toEqual({ echoed: { a: 1 } });
  });
});
