import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { type RunningServer, startServer } from "../../src/server.js";
import { adapterFile, pairs } from "./fixtures.js";

const USER = "tenant:someone-private";
const TEXT = "a-private-response-text";

describe("info-level logs", () => {
  let server: RunningServer;
  let dir: string;
  const lines: string[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "sharelora-logs-"));
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(...String(chunk).split("\n").filter(Boolean));
        done();
      },
    });
    const config = loadConfig(
      { port: 0, host: "127.0.0.1", adapters: dir, device: "cpu", logLevel: "info" },
      {},
    );
    server = await startServer(config, { logger: { level: "info", stream } });
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("name route patterns and request ids, never user ids or texts", async () => {
    const url = server.url;
    const user = encodeURIComponent(USER);
    const post = (path: string, body: unknown) =>
      fetch(url + path, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    expect((await fetch(`${url}/v1/users/${user}`)).status).toBe(404);
    const put = await fetch(`${url}/v1/users/${user}/adapter`, {
      method: "PUT",
      headers: { "content-type": "application/octet-stream" },
      body: adapterFile(server.runtime, USER),
    });
    expect(put.status).toBe(200);
    expect(
      (await post("/v1/score", { user: USER, items: [{ prompt: "p", response: TEXT }] })).status,
    ).toBe(200);
    expect((await post(`/v1/users/${user}/fit`, { pairs: pairs(3, TEXT) })).status).toBe(200);
    expect((await post("/v1/score", { user: USER, items: [{ prompt: 1 }] })).status).toBe(400);
    expect((await fetch(`${url}/v1/nothing/${user}?q=${TEXT}`)).status).toBe(404);

    const records = lines.map((line) => JSON.parse(line) as Record<string, any>);
    const incoming = records.filter((r) => r.msg === "incoming request");
    expect(incoming.length).toBeGreaterThanOrEqual(6);
    expect(incoming.map((r) => r.req.route)).toContain("/v1/users/:user");
    expect(incoming.map((r) => r.req.route)).toContain("(unmatched)");
    for (const r of incoming) expect(r.reqId).toMatch(/^[0-9a-f-]{36}$/);
    const all = lines.join("\n");
    expect(all).not.toContain("someone-private");
    expect(all).not.toContain(TEXT);
  });
});
