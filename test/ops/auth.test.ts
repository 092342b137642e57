import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashApiKey } from "../../src/http/api-keys.js";
import { startTestServer, type TestClient, type TestServer } from "../helpers/server.js";
import { adapterFile, KEY_LIST, KEYS, pairs, shapedItem } from "./fixtures.js";

const FILE_KEY = "file-admin-key-0123456789";
const item = { prompt: "hi", response: "hello" };

describe("API keys: 401 without a valid key, 403 without the scope, 200 with it", () => {
  let t: TestServer;
  let dir: string;
  let score: TestClient;
  let fit: TestClient;
  let admin: TestClient;
  let fromFile: TestClient;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "sharelora-keys-"));
    const file = join(dir, "keys.json");
    const entry = { name: "file-admin", scopes: ["admin"], sha256: hashApiKey(FILE_KEY) };
    await writeFile(file, JSON.stringify({ keys: [entry] }));
    t = await startTestServer({ apiKeys: KEY_LIST, apiKeysFile: file, fitSyncMaxPairs: 4 });
    score = t.as(KEYS.score);
    fit = t.as(KEYS.fit);
    admin = t.as(KEYS.admin);
    fromFile = t.as(FILE_KEY);
  });
  afterAll(async () => {
    await t.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("answers 401 with WWW-Authenticate: Bearer for a missing or unknown key", async () => {
    const missing = await t.post("/v1/score", { items: [item] });
    expect(missing.status).toBe(401);
    expect(missing.body.code).toBe("UNAUTHORIZED");
    expect(missing.headers.get("www-authenticate")).toMatch(/^Bearer realm="sharelora"$/);
    const wrong = await t.as("not-a-real-key-0123456789").post("/v1/score", { items: [item] });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("www-authenticate")).toMatch(/error="invalid_token"/);
    const basic = await t.post("/v1/score", { items: [item] }, { authorization: "Basic abc" });
    expect(basic.status).toBe(401);
    expect((await t.get("/v1/info")).status).toBe(401);
  });

  it("scoring routes need `score`", async () => {
    const calls: [string, unknown][] = [
      ["/v1/score", { items: [item] }],
      ["/v1/compare", { pairs: [{ prompt: "p", a: "x", b: "y" }] }],
      ["/v1/rank", { prompt: "p", responses: ["x", "y"] }],
      ["/v1/rewards/shaped", { items: [shapedItem], estimator: "kl", beta: 0.1 }],
    ];
    for (const [path, body] of calls) {
      expect((await score.post(path, body)).status, path).toBe(200);
      for (const other of [fit, admin]) {
        const res = await other.post(path, body);
        expect(res.status, path).toBe(403);
        expect(res.body.code).toBe("FORBIDDEN");
        expect(res.headers.get("www-authenticate")).toMatch(
          /error="insufficient_scope", scope="score"/,
        );
      }
    }
  });

  it("fit needs `fit`; metadata needs `fit` or `admin`; jobs need `fit`", async () => {
    expect((await score.post("/v1/users/u1/fit", { pairs: pairs(3) })).status).toBe(403);
    expect((await admin.post("/v1/users/u1/fit", { pairs: pairs(3) })).status).toBe(403);
    const fitted = await fit.post("/v1/users/u1/fit", { pairs: pairs(3) });
    expect(fitted.status).toBe(200);
    expect(fitted.body.version).toBe(1);
    expect((await score.get("/v1/users/u1")).status).toBe(403);
    expect((await fit.get("/v1/users/u1")).status).toBe(200);
    expect((await admin.get("/v1/users/u1")).status).toBe(200);
    const job = await fit.post("/v1/users/u1/fit", { pairs: pairs(6, "job") });
    expect(job.status).toBe(202);
    expect((await score.get(job.body.status_url)).status).toBe(403);
    expect((await fit.get(job.body.status_url)).status).toBe(200);
  });

  it("export, import and delete need `admin`; a key from the hash file works too", async () => {
    const file = adapterFile(t.server.runtime, "u2");
    expect((await fit.send("PUT", "/v1/users/u2/adapter", { body: file })).status).toBe(403);
    expect((await score.send("PUT", "/v1/users/u2/adapter", { body: file })).status).toBe(403);
    expect((await admin.send("PUT", "/v1/users/u2/adapter", { body: file })).status).toBe(200);
    expect((await fit.get("/v1/users/u2/adapter")).status).toBe(403);
    expect((await fromFile.get("/v1/users/u2/adapter")).status).toBe(200);
    expect((await fit.send("DELETE", "/v1/users/u2")).status).toBe(403);
    expect((await admin.send("DELETE", "/v1/users/u2")).status).toBe(204);
    expect((await fromFile.get("/v1/users/u2")).status).toBe(404);
  });

  it("/v1/info takes any valid key; probes, metrics and docs are open", async () => {
    for (const client of [score, fit, admin])
      expect((await client.get("/v1/info")).status).toBe(200);
    for (const path of ["/health", "/ready", "/metrics", "/openapi.json", "/docs/"]) {
      expect((await t.get(path)).status, path).toBe(200);
    }
  });
});

describe("a key limited to a user-id prefix only acts for those users", () => {
  let t: TestServer;
  let acme: TestClient;
  let admin: TestClient;
  beforeAll(async () => {
    t = await startTestServer({ apiKeys: KEY_LIST, fitSyncMaxPairs: 4 });
    acme = t.as(KEYS.acme);
    admin = t.as(KEYS.admin);
    const file = adapterFile(t.server.runtime, "globex:alice");
    expect((await admin.send("PUT", "/v1/users/globex:alice/adapter", { body: file })).status).toBe(
      200,
    );
  });
  afterAll(async () => {
    await t.close();
  });

  it("cannot read, export, import, fit or delete another tenant's user", async () => {
    const other = "/v1/users/globex:alice";
    expect((await acme.get(other)).status).toBe(403);
    expect((await acme.get(`${other}/adapter`)).status).toBe(403);
    const file = adapterFile(t.server.runtime, "globex:alice", 2);
    expect((await acme.send("PUT", `${other}/adapter`, { body: file })).status).toBe(403);
    expect((await acme.post(`${other}/fit`, { pairs: pairs(3) })).status).toBe(403);
    const deleted = await acme.send("DELETE", other);
    expect(deleted.status).toBe(403);
    expect(deleted.body.code).toBe("FORBIDDEN");
    const still = await admin.get(other);
    expect(still.status).toBe(200);
    expect(still.body.version).toBe(1);
  });

  it("cannot score, compare, rank or shape for another tenant's user", async () => {
    const calls: [string, Record<string, unknown>][] = [
      ["/v1/score", { items: [item] }],
      ["/v1/compare", { pairs: [{ prompt: "p", a: "x", b: "y" }] }],
      ["/v1/rank", { prompt: "p", responses: ["x", "y"] }],
      ["/v1/rewards/shaped", { items: [shapedItem], estimator: "kl", beta: 0.1 }],
    ];
    for (const [path, body] of calls) {
      const foreign = await acme.post(path, { ...body, user: "globex:alice" });
      expect(foreign.status, path).toBe(403);
      expect((await acme.post(path, { ...body, user: "acme:alice" })).status, path).toBe(200);
      expect((await acme.post(path, body)).status, `${path} (global)`).toBe(200);
    }
  });

  it("acts for its own users; another tenant's job answers exactly like an unknown one", async () => {
    const own = await acme.post("/v1/users/acme:bob/fit", { pairs: pairs(3) });
    expect(own.status).toBe(200);
    expect((await acme.get("/v1/users/acme:bob")).status).toBe(200);
    const job = await t.as(KEYS.fit).post("/v1/users/globex:carol/fit", { pairs: pairs(6) });
    expect(job.status).toBe(202);
    const foreign = await acme.get(job.body.status_url);
    const unknownPath = "/v1/jobs/00000000-0000-4000-8000-000000000000";
    const unknown = await acme.get(unknownPath);
    expect(foreign.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect(foreign.body).toEqual({ ...unknown.body, instance: job.body.status_url });
    expect(unknown.body.instance).toBe(unknownPath);
    expect(foreign.body.code).toBe("JOB_NOT_FOUND");
    const headerNames = (res: { headers: Headers }) =>
      [...res.headers.keys()].filter((name) => name !== "date" && name !== "x-request-id");
    expect(headerNames(foreign)).toEqual(headerNames(unknown));
    expect((await t.as(KEYS.fit).get(job.body.status_url)).status).toBe(200);
    const ownJob = await acme.post("/v1/users/acme:dan/fit", { pairs: pairs(6, "dan") });
    expect(ownJob.status).toBe(202);
    expect((await acme.get(ownJob.body.status_url)).status).toBe(200);
  });
});

describe("--protect-metrics", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ apiKeys: KEY_LIST, protectMetrics: "true" });
  });
  afterAll(async () => {
    await t.close();
  });

  it("asks for a key (any scope) on /metrics; probes stay open", async () => {
    expect((await t.get("/metrics")).status).toBe(401);
    const res = await t.as(KEYS.score).get("/metrics");
    expect(res.status).toBe(200);
    expect(res.body).toMatch(/sharelora_http_requests_total/);
    expect((await t.get("/health")).status).toBe(200);
    expect((await t.get("/ready")).status).toBe(200);
  });
});
