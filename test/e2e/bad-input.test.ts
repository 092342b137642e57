import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";

function rawPost(url: string, path: string, body: Buffer, contentType: string) {
  return new Promise<{ status: number; body: any; type: string }>((resolve, reject) => {
    const req = request(
      url + path,
      { method: "POST", headers: { "content-type": contentType } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          resolve({
            status: res.statusCode ?? 0,
            body: JSON.parse(text),
            type: String(res.headers["content-type"]),
          });
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

describe("bad input gets RFC 9457 problems naming the field", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ maxItems: 4, maxTextChars: 1000, bodyLimitBytes: 64 * 1024 });
  });
  afterAll(async () => {
    await t.close();
  });

  const expectProblem = (
    res: { status: number; body: any; headers: Headers },
    status: number,
    field?: string,
  ) => {
    expect(res.status).toBe(status);
    expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(res.body.type).toMatch(/^urn:sharelora:problem:/);
    expect(res.body.status).toBe(status);
    expect(typeof res.body.detail).toBe("string");
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.(ts|js):\d+/);
    if (field !== undefined) expect(res.body.field).toBe(field);
  };

  it("missing fields", async () => {
    expectProblem(await t.post("/v1/score", {}), 400, "items");
    expectProblem(await t.post("/v1/score", { items: [{ prompt: "p" }] }), 400);
    expectProblem(await t.post("/v1/compare", { pairs: [{ prompt: "p", a: "x" }] }), 400);
  });

  it("wrong types", async () => {
    expectProblem(await t.post("/v1/score", { items: "nope" }), 400, "items");
    expectProblem(await t.post("/v1/score", { items: [{ prompt: 1, response: "r" }] }), 400);
    expectProblem(
      await t.post("/v1/score", { user: 42, items: [{ prompt: "p", response: "r" }] }),
      400,
      "user",
    );
    expectProblem(
      await t.post("/v1/score", { items: [{ prompt: "p", response: "r" }], pessimism: -1 }),
      400,
      "pessimism",
    );
  });

  it("empty arrays and too many items", async () => {
    expectProblem(await t.post("/v1/score", { items: [] }), 400, "items");
    expectProblem(await t.post("/v1/rank", { prompt: "p", responses: [] }), 400, "responses");
    const five = Array.from({ length: 5 }, () => ({ prompt: "p", response: "r" }));
    expectProblem(await t.post("/v1/score", { items: five }), 400, "items");
  });

  it("bad user ids", async () => {
    expectProblem(
      await t.post("/v1/score", { user: "a b", items: [{ prompt: "p", response: "r" }] }),
      400,
      "user",
    );
    expectProblem(
      await t.post("/v1/score", { user: "x".repeat(129), items: [{ prompt: "p", response: "r" }] }),
      400,
      "user",
    );
  });

  it("huge text and huge body", async () => {
    expectProblem(
      await t.post("/v1/score", { items: [{ prompt: "p", response: "x".repeat(1001) }] }),
      400,
      "items[0].response",
    );
    const body = JSON.stringify({ items: [{ prompt: "p", response: "y".repeat(100 * 1024) }] });
    expectProblem(await t.post("/v1/score", body), 413);
  });

  it("non-JSON, invalid UTF-8, lone surrogates and a wrong content type", async () => {
    expectProblem(await t.post("/v1/score", "{not json"), 400, "body");
    const invalidUtf8 = Buffer.concat([
      Buffer.from('{"items":[{"prompt":"'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('","response":"r"}]}'),
    ]);
    const res = await rawPost(t.url, "/v1/score", invalidUtf8, "application/json");
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(/UTF-8/);
    expectProblem(
      await t.post("/v1/score", '{"items":[{"prompt":"\\ud800","response":"r"}]}'),
      400,
      "items[0].prompt",
    );
    expectProblem(await t.post("/v1/score", "items=1", { "content-type": "text/plain" }), 415);
  });

  it("unknown routes are problems too", async () => {
    expectProblem(await t.get("/v1/nope"), 404);
  });
});
