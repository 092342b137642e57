import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rawExchange, rawRequest } from "../helpers/raw-http.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

/** A problem+json body of our own: stable type, status, and nothing of the request echoed. */
function expectOurProblem(
  res: { status: number | undefined; contentType: string | null | undefined; body: unknown },
  status: number,
  options: { code?: string; field?: string; notEchoed?: string[] } = {},
) {
  expect(res.status).toBe(status);
  expect(res.contentType).toMatch(/^application\/problem\+json/);
  const body = (typeof res.body === "string" ? JSON.parse(res.body) : res.body) as Record<
    string,
    unknown
  >;
  expect(body["type"]).toMatch(/^urn:sharelora:problem:[a-z-]+$/);
  expect(body["status"]).toBe(status);
  expect(typeof body["detail"]).toBe("string");
  expect(body).not.toHaveProperty("statusCode");
  if (options.code !== undefined) expect(body["code"]).toBe(options.code);
  if (options.field !== undefined) expect(body["field"]).toBe(options.field);
  for (const text of options.notEchoed ?? []) expect(JSON.stringify(body)).not.toContain(text);
}

describe("errors that fastify and Node used to answer themselves", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ bodyLimitBytes: 64 * 1024 });
  });
  afterAll(async () => {
    await t.close();
  });

  const get = async (path: string) => {
    const res = await t.get(path);
    return { status: res.status, contentType: res.headers.get("content-type"), body: res.body };
  };
  const raw = async (chunks: string[]) => {
    const res = await rawExchange(t.url, chunks, { waitMs: 5000 });
    expect(res.closed, "the server closes the connection").toBe(true);
    return { status: res.status, contentType: res.headers["content-type"], body: res.body };
  };

  it("every user id the rule allows reaches the route, on every path", async () => {
    for (const length of [100, 101, 120, 128]) {
      const user = "u".repeat(length);
      expectOurProblem(await get(`/v1/users/${user}`), 404, { code: "USER_NOT_FOUND" });
      expectOurProblem(await get(`/v1/users/${user}/adapter`), 404, { code: "USER_NOT_FOUND" });
      const fit = await t.post(`/v1/users/${user}/fit`, {
        pairs: [{ prompt: "p", chosen: "a", rejected: "b" }],
      });
      expect(fit.status, `fit for a ${length}-character id`).toBe(200);
      expect(fit.body.user).toBe(user);
      expect((await t.send("DELETE", `/v1/users/${user}`)).status).toBe(204);
    }
    // Percent-encoded, the longest id is three times as long in the URL.
    expectOurProblem(await get(`/v1/users/${"%3A".repeat(128)}`), 404, { code: "USER_NOT_FOUND" });
  });

  it("a longer id is our INVALID_USER_ID, not fastify's 414", async () => {
    for (const length of [129, 400, 5000]) {
      expectOurProblem(await get(`/v1/users/${"u".repeat(length)}`), 400, {
        code: "INVALID_USER_ID",
        field: "params.user",
      });
    }
    expectOurProblem(await get("/v1/users/bad%20id"), 400, {
      code: "INVALID_USER_ID",
      field: "params.user",
    });
  });

  it("a malformed percent-encoding in the path is our 400, without the URL", async () => {
    for (const path of ["/v1/users/%ff", "/v1/users/%", "/v1/users/%zz", "/v1/users/a%ZZb/fit"]) {
      expectOurProblem(await get(path), 400, {
        code: "INVALID_REQUEST",
        notEchoed: [path, "%"],
      });
    }
  });

  it("malformed HTTP gets a problem, never Node's own body, and the connection is closed", async () => {
    const nul = rawRequest("GET", "/health", { "x-secret-header": "a\u0000b" });
    expectOurProblem(await raw([nul]), 400, { code: "MALFORMED_HTTP", notEchoed: ["x-secret"] });
    const clTe = rawRequest(
      "POST",
      "/v1/score",
      { "content-length": "5", "transfer-encoding": "chunked", "content-type": "application/json" },
      "0\r\n\r\n",
    );
    expectOurProblem(await raw([clTe]), 400, { code: "MALFORMED_HTTP" });
    const badChunks = rawRequest(
      "POST",
      "/v1/score",
      { "transfer-encoding": "chunked", "content-type": "application/json" },
      "zz\r\nsecret-body\r\n0\r\n\r\n",
    );
    expectOurProblem(await raw([badChunks]), 400, {
      code: "MALFORMED_HTTP",
      notEchoed: ["secret-body"],
    });
    expectOurProblem(await raw(["GET / HTTP/9.9\r\n\r\n"]), 400, { code: "MALFORMED_HTTP" });
    expectOurProblem(await raw(["\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u0001\u00fc"]), 400, {
      code: "MALFORMED_HTTP",
    });
    const huge = rawRequest("GET", "/health", { "x-huge": "h".repeat(20_000) });
    expectOurProblem(await raw([huge]), 431, {
      code: "HEADERS_TOO_LARGE",
      notEchoed: ["hhhh"],
    });
    // Requests Node parsed but used to answer itself, with no body at all.
    const noHost = await rawExchange(t.url, ["GET /health HTTP/1.1\r\nconnection: close\r\n\r\n"]);
    expectOurProblem(
      { status: noHost.status, contentType: noHost.headers["content-type"], body: noHost.body },
      400,
      { code: "MALFORMED_HTTP" },
    );
    const expectation = await raw([rawRequest("GET", "/health", { expect: "a-teapot" })]);
    expectOurProblem(expectation, 417, { code: "EXPECTATION_FAILED", notEchoed: ["teapot"] });
    // The server is still fine, and HTTP/1.0 needs no Host.
    expect((await t.get("/health")).status).toBe(200);
    const old = await rawExchange(t.url, ["GET /health HTTP/1.0\r\n\r\n"]);
    expect(old.status).toBe(200);
  });

  it("every 4xx fastify produces is our problem", async () => {
    expectOurProblem(await get("/nope"), 404, { code: "NOT_FOUND" });
    const wrongMethod = await t.send("DELETE", "/v1/score");
    expectOurProblem(
      {
        status: wrongMethod.status,
        contentType: wrongMethod.headers.get("content-type"),
        body: wrongMethod.body,
      },
      404,
    );
    const big = await t.post("/v1/score", {
      items: [{ prompt: "p", response: "y".repeat(70_000) }],
    });
    expectOurProblem(
      { status: big.status, contentType: big.headers.get("content-type"), body: big.body },
      413,
      { code: "PAYLOAD_TOO_LARGE" },
    );
    const form = await t.post("/v1/score", "a=1", {
      "content-type": "application/x-www-form-urlencoded",
    });
    expectOurProblem(
      { status: form.status, contentType: form.headers.get("content-type"), body: form.body },
      415,
    );
    const badJson = await t.post("/v1/score", "{");
    expectOurProblem(
      {
        status: badJson.status,
        contentType: badJson.headers.get("content-type"),
        body: badJson.body,
      },
      400,
      { code: "INVALID_JSON" },
    );
  });

  it("while shutting down, a pipelined request gets our 503, not fastify's", async () => {
    const own = await startTestServer();
    try {
      const body = JSON.stringify({ items: [{ prompt: "p", response: "r" }] });
      const head = rawRequest("POST", "/v1/score", {
        "content-type": "application/json",
        "content-length": String(body.length),
      });
      const next = rawRequest("GET", "/v1/info", {});
      const exchange = rawExchange(own.url, [head, body.slice(0, 5), 200, body.slice(5) + next], {
        waitMs: 8000,
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      const closing = own.server.close();
      const res = await exchange;
      await closing;
      const second = res.body.slice(res.body.indexOf("HTTP/1.1"));
      expect(second).toMatch(/^HTTP\/1\.1 503/);
      expect(second).toMatch(/content-type: application\/problem\+json/i);
      expect(second).toContain("urn:sharelora:problem:shutting-down");
    } finally {
      await own.close();
    }
  });
});

describe("a missing or wrong-typed field is named in full", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.close();
  });

  const field = async (path: string, body: unknown) => {
    const res = await t.post(path, body);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.code).toBe("INVALID_REQUEST");
    expect(res.body.detail.startsWith(`${res.body.field}: `), res.body.detail).toBe(true);
    return res.body.field;
  };

  it("score items", async () => {
    expect(await field("/v1/score", { items: [{ prompt: "p" }] })).toBe("items[0].response");
    expect(await field("/v1/score", { items: [{ response: "r" }] })).toBe("items[0].prompt");
    expect(await field("/v1/score", { items: [{ prompt: 1, response: "r" }] })).toBe(
      "items[0].prompt",
    );
    const ok = { prompt: "p", response: "r" };
    expect(await field("/v1/score", { items: [ok, { text: 5 }] })).toBe("items[1].text");
    expect(
      await field("/v1/score", { items: [{ messages: [{ role: "bot", content: "x" }] }] }),
    ).toBe("items[0].messages[0].role");
    expect(await field("/v1/score", { items: [{ messages: [{ role: "user" }] }] })).toBe(
      "items[0].messages[0].content",
    );
    expect(await field("/v1/score", { items: [{ ...ok, colour: "red" }] })).toBe("items[0].colour");
    expect(await field("/v1/score", { items: [{}] })).toBe("items[0].prompt");
    expect(await field("/v1/score", { items: ["text"] })).toBe("items[0]");
  });

  it("fit pairs, plain and conversational", async () => {
    const fit = "/v1/users/alice/fit";
    expect(await field(fit, { pairs: [{ prompt: "p", chosen: "c" }] })).toBe("pairs[0].rejected");
    expect(await field(fit, { pairs: [{ prompt: "p", chosen: 3, rejected: "r" }] })).toBe(
      "pairs[0].chosen",
    );
    const turn = (role: string, content: string) => [{ role, content }];
    expect(
      await field(fit, {
        pairs: [{ prompt: turn("user", "q"), chosen: turn("assistant", "a") }],
      }),
    ).toBe("pairs[0].rejected");
    expect(
      await field(fit, {
        pairs: [
          {
            prompt: turn("user", "q"),
            chosen: turn("assistant", "a"),
            rejected: [{ role: "assistant" }],
          },
        ],
      }),
    ).toBe("pairs[0].rejected[0].content");
  });
});
