import Fastify, { type FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { type QueueLevel, registerConcurrencyLimit } from "../../src/http/concurrency.js";
import { sendProblem } from "../../src/http/problem.js";

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** The limit with a backbone queue at `level`, a backbone route and one that is not. */
async function appWith(level: QueueLevel | undefined, max = 8): Promise<FastifyInstance> {
  const built = Fastify();
  built.setErrorHandler((error, request, reply) => sendProblem(request, reply, error));
  registerConcurrencyLimit(built, { max, backboneQueue: () => level });
  built.post("/v1/score", { config: { backbone: true } }, async (request) => ({
    echoed: request.body,
  }));
  built.get("/v1/users/:user", async () => ({ user: "alice" }));
  await built.ready();
  return built;
}

const badJson = {
  method: "POST" as const,
  url: "/v1/score",
  headers: { "content-type": "application/json" },
  payload: "{ not json",
};

describe("registerConcurrencyLimit and the backbone queue", () => {
  it("refuses backbone routes while the queue is full, before reading their body", async () => {
    app = await appWith({ size: 2, max: 2 });
    const refused = await app.inject(badJson);
    expect(refused.statusCode).toBe(429);
    expect(refused.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(refused.json()).toMatchObject({ code: "OVERLOADED", retry_after_s: 1 });
    expect(refused.json().detail).toContain("backbone queue is full (2 texts)");
    // Routes that do not feed the backbone still answer.
    expect((await app.inject({ method: "GET", url: "/v1/users/alice" })).statusCode).toBe(200);
  });

  it("reads the body as usual while the queue has room, or before the model is loaded", async () => {
    for (const level of [{ size: 1, max: 2 }, undefined]) {
      app = await appWith(level);
      // The malformed body now reaches the parser: 400, not 429.
      expect((await app.inject(badJson)).statusCode).toBe(400);
      const ok = await app.inject({ method: "POST", url: "/v1/score", payload: { a: 1 } });
      expect(ok.json()).toEqual({ echoed: { a: 1 } });
      await app.close();
      app = undefined;
    }
  });
});
