import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RestartingBackend } from "../../src/inference/restarting-backend.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

describe("an inference worker that dies", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.close();
  });

  it("is restarted in place: 503 NOT_READY meanwhile, then the same rewards as before", async () => {
    const backend = t.server.runtime.backend;
    expect(backend).toBeInstanceOf(RestartingBackend);
    const restarting = backend as RestartingBackend;
    const before = await t.post("/v1/score", { items: [{ prompt: "p", response: "first text" }] });
    expect(before.status).toBe(200);

    await restarting.kill();
    const during = await t.post("/v1/score", { items: [{ prompt: "p", response: "new text" }] });
    expect(during.status).toBe(503);
    expect(during.headers.get("content-type")).toMatch(/application\/problem\+json/);
    expect(during.body.code).toBe("NOT_READY");
    expect((await t.get("/ready")).status).toBe(503);

    await restarting.settled();
    expect((await t.get("/ready")).status).toBe(200);
    expect(restarting.restarts).toBe(1);
    // Computed afresh by the new worker, not answered from the feature cache.
    t.server.runtime.engine.cache.clear();
    const after = await t.post("/v1/score", { items: [{ prompt: "p", response: "first text" }] });
    expect(after.status).toBe(200);
    expect(after.body.rewards[0]).toBe(before.body.rewards[0]);
  });
});
