import { afterEach, describe, expect, it } from "vitest";
import { SlowBodies } from "../../loadtest/slow-bodies.js";
import { rawExchange, rawRequest } from "../helpers/raw-http.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const item = { prompt: "hi", response: "hello" };

let t: TestServer | undefined;
let slow: SlowBodies | undefined;
afterEach(async () => {
  slow?.close();
  slow = undefined;
  await t?.close();
  t = undefined;
});

async function timedScore(server: TestServer) {
  const started = performance.now();
  const res = await server.post("/v1/score", { items: [item] });
  return { ...res, ms: performance.now() - started };
}

const expectProblem = (body: string, status: number, code: string) => {
  const problem = JSON.parse(body);
  expect(problem).toMatchObject({ status, code });
  expect(problem.type).toMatch(/^urn:sharelora:problem:/);
};

describe("slow request bodies hold no scoring permit", () => {
  it("8 connections sending 1 byte/s leave --max-concurrent-requests 8 to other clients", async () => {
    t = await startTestServer({ maxConcurrentRequests: 8 });
    expect((await timedScore(t)).status).toBe(200);
    slow = await SlowBodies.open({ url: t.url, count: 8 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (let i = 0; i < 3; i++) {
      const res = await timedScore(t);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
    expect(slow.open).toBe(8);
  });

  it("512 slow-body connections: a normal client still gets 200 within 1 s", async () => {
    t = await startTestServer();
    expect((await timedScore(t)).status).toBe(200);
    slow = await SlowBodies.open({ url: t.url, count: 512, lifetimeMs: 30_000 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(slow.open).toBe(512);
    for (let i = 0; i < 5; i++) {
      const res = await timedScore(t);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.ms).toBeLessThan(1000);
    }
  });
});

describe("uploads are bounded in time", () => {
  it("a body slower than --min-body-bytes-per-s gets 408 after the grace, and is closed", async () => {
    t = await startTestServer({ minBodyBytesPerS: 100, bodyRateGraceMs: 1000 });
    slow = await SlowBodies.open({ url: t.url, count: 4 });
    const deadline = Date.now() + 6000;
    while (slow.open > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(slow.open).toBe(0);
    expect(slow.stats.closedByServer).toEqual({ "408": 4 });
    for (const ms of slow.stats.closedAfterMs) {
      expect(ms).toBeGreaterThan(900);
      expect(ms).toBeLessThan(3000);
    }
    const res = await rawExchange(
      t.url,
      [
        rawRequest("POST", "/v1/score", {
          "content-type": "application/json",
          "content-length": "1000",
        }),
        '{"items":',
      ],
      { waitMs: 5000 },
    );
    expect(res.status).toBe(408);
    expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expectProblem(res.body, 408, "REQUEST_TIMEOUT");
    expect(res.closed).toBe(true);
    // A normal client is not affected.
    expect((await timedScore(t)).status).toBe(200);
  });

  it("a body that does not arrive within --body-timeout-ms gets 408, however fast it trickles", async () => {
    t = await startTestServer({ bodyTimeoutMs: 1500, minBodyBytesPerS: 10 });
    const chunks: (string | number)[] = [
      rawRequest("POST", "/v1/score", {
        "content-type": "application/json",
        "content-length": "100000",
      }),
    ];
    // 100 bytes every 100 ms: ten times the minimum rate, but 100 s for the whole body.
    for (let i = 0; i < 40; i++)
      chunks.push(i === 0 ? `{"items":[{"prompt":"` : "a".repeat(100), 100);
    const res = await rawExchange(t.url, chunks, { waitMs: 6000 });
    expect(res.status).toBe(408);
    expectProblem(res.body, 408, "REQUEST_TIMEOUT");
    expect(res.closed).toBe(true);
    expect(res.elapsedMs).toBeGreaterThan(1400);
    expect(res.elapsedMs).toBeLessThan(3500);
  });

  it("a body nobody reads is closed at the whole request's deadline", async () => {
    t = await startTestServer({ headersTimeoutMs: 500, bodyTimeoutMs: 1000 });
    // A GET's body is never read, and a refused content type's neither.
    for (const [method, type] of [
      ["GET", "application/json"],
      ["POST", "application/x-www-form-urlencoded"],
    ]) {
      const head = rawRequest(method!, method === "GET" ? "/health" : "/v1/score", {
        "content-type": type!,
        "content-length": "1000",
      });
      const res = await rawExchange(t.url, [head, "a"], { waitMs: 6000 });
      expect(res.status, method).toBe(method === "GET" ? 200 : 415);
      expect(res.closed, method).toBe(true);
      expect(res.elapsedMs, method).toBeGreaterThan(1400);
      expect(res.elapsedMs, method).toBeLessThan(4000);
    }
  });

  it("headers that do not arrive within --headers-timeout-ms get 408, and are closed", async () => {
    t = await startTestServer({ headersTimeoutMs: 1000 });
    const head = rawRequest("GET", "/health", { "x-slow": "a".repeat(40) }).slice(0, -2);
    const chunks: (string | number)[] = [];
    for (const char of head) chunks.push(char, 100);
    const res = await rawExchange(t.url, chunks, { waitMs: 6000 });
    expect(res.status).toBe(408);
    expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expectProblem(res.body, 408, "REQUEST_TIMEOUT");
    expect(res.closed).toBe(true);
    expect(res.elapsedMs).toBeLessThan(3500);
    // A connection that sends nothing at all is closed as well.
    const silent = await rawExchange(t.url, [], { waitMs: 6000 });
    expect(silent.closed).toBe(true);
  });
});
