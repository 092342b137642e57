import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PACKAGE_ROOT, SETTINGS } from "../../src/config.js";
import { routeAccess } from "../../src/http/auth.js";
import {
  checkOpenApiFile,
  diffOpenApi,
  generateOpenApiDocument,
  OPENAPI_FILE,
  renderOpenApi,
} from "../../src/openapi.js";
import { ROUTE_EXAMPLES } from "../../src/schemas/examples.js";
import { VERSION } from "../../src/server.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

type Json = Record<string, any>;

const REDOCLY = join(PACKAGE_ROOT, "node_modules", ".bin", "redocly");

function cli(...args: string[]) {
  return spawnSync(process.execPath, ["--import", "tsx", "src/cli.ts", "openapi", ...args], {
    cwd: PACKAGE_ROOT,
    encoding: "utf8",
    env: { ...process.env, SHARELORA_MAX_ITEMS: "3" },
  });
}

describe("the committed OpenAPI document", () => {
  let doc: Json;
  let dir: string;
  beforeAll(async () => {
    doc = (await generateOpenApiDocument(VERSION)) as Json;
    dir = await mkdtemp(join(tmpdir(), "sharelora-openapi-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("matches the routes (npm run openapi:check), whatever SHARELORA_* says", async () => {
    expect(await checkOpenApiFile(VERSION)).toEqual([]);
    const run = cli("--check");
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
  });

  it("detects drift, and names where", async () => {
    const drifted = JSON.parse(await readFile(OPENAPI_FILE, "utf8"));
    drifted.paths["/v1/score"].post.requestBody.content[
      "application/json"
    ].schema.properties.items.maxItems = 999;
    delete drifted.paths["/v1/rank"];
    const file = join(dir, "drifted.json");
    await writeFile(file, renderOpenApi(drifted));
    const differences = await checkOpenApiFile(VERSION, file);
    expect(differences).toContain(
      "/paths/~1v1~1score/post/requestBody/content/application~1json/schema/properties/items/maxItems",
    );
    expect(differences).toContain("/paths/~1v1~1rank");
    const run = cli("--check", "--file", file);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/differs from the routes/);
    expect(run.stderr).toContain("/paths/~1v1~1rank");
  });

  it("compares by value: key order does not count as drift, array order does", () => {
    expect(diffOpenApi({ a: 1, b: [1, 2] }, { b: [1, 2], a: 1 })).toEqual([]);
    expect(diffOpenApi({ b: [1, 2] }, { b: [2, 1] })).toEqual(["/b/0", "/b/1"]);
  });

  it("is OpenAPI 3.1 with servers, and each operation's security from the auth table", () => {
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({
      type: "http",
      scheme: "bearer",
    });
    expect(doc.security).toBeUndefined();
    const [server] = doc.servers;
    const resolved = server.url.replace(
      /\{(\w+)\}/g,
      (_m: string, name: string) => server.variables[name].default,
    );
    expect(resolved).toBe(`http://localhost:${SETTINGS.port.default}`);
    const open = ["/health", "/ready", "/metrics"];
    for (const [path, operations] of Object.entries(doc.paths as Json)) {
      for (const [method, op] of Object.entries(operations as Json)) {
        const where = `${method.toUpperCase()} ${path}`;
        expect(op.summary, where).toBeTruthy();
        expect(op.tags?.length, where).toBeGreaterThan(0);
        const access = routeAccess(method.toUpperCase(), path.replace(/\{(\w+)\}/g, ":$1"), {
          protectMetrics: false,
        });
        expect(access === "open", where).toBe(open.includes(path));
        if (access === "open") {
          expect(op.security, where).toEqual([]);
          continue;
        }
        expect(op.security, where).toEqual([{ bearerAuth: [] }]);
        expect(op["x-scopes"], where).toEqual(access === "authenticated" ? undefined : access);
        expect(Object.keys(op.responses), where).toEqual(expect.arrayContaining(["401", "403"]));
      }
    }
    expect(doc.paths["/v1/users/{user}"].get["x-scopes"]).toEqual(["fit", "admin"]);
    const metrics = doc.paths["/metrics"].get;
    expect(metrics.responses["401"].description).toMatch(/--protect-metrics/);
    expect(metrics.responses["403"]).toBeUndefined();
    expect(doc.paths["/docs"]).toBeUndefined();
    expect(doc.paths["/openapi.json"]).toBeUndefined();
  });

  it("documents the 4xx answers each operation can give", () => {
    for (const [path, operations] of Object.entries(doc.paths as Json)) {
      for (const [method, op] of Object.entries(operations as Json)) {
        const where = `${method.toUpperCase()} ${path}`;
        const statuses = Object.keys(op.responses);
        const errors = statuses.filter((status) => status.startsWith("4"));
        // The probes cannot answer a 4xx: they take no input and need no key.
        if (path === "/health" || path === "/ready") expect(errors, where).toEqual([]);
        else expect(errors.length, where).toBeGreaterThan(0);
        if (op.parameters || op.requestBody) expect(statuses, where).toContain("400");
        if (op.requestBody) expect(statuses, where).toEqual(expect.arrayContaining(["413", "415"]));
        if (method === "get") expect(statuses, where).not.toContain("413");
        if (path.startsWith("/v1/")) expect(statuses, where).toContain("429");
      }
    }
    for (const [path, method] of [
      ["/v1/users/{user}", "get"],
      ["/v1/users/{user}/adapter", "get"],
      ["/v1/jobs/{id}", "get"],
    ] as const) {
      expect(doc.paths[path][method].responses, `${method} ${path}`).toHaveProperty("404");
    }
    expect(doc.paths["/v1/info"].get.responses).toHaveProperty("429");
  });

  it("passes redocly lint (recommended rules): no errors, only the probes' missing 4xx", (ctx) => {
    if (!existsSync(REDOCLY)) ctx.skip(`${REDOCLY} is missing: run npm ci`);
    const run = spawnSync(REDOCLY, ["lint", OPENAPI_FILE, "--format", "json"], {
      cwd: PACKAGE_ROOT,
      encoding: "utf8",
      timeout: 60_000,
      env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
    });
    const report = JSON.parse(run.stdout) as {
      totals: { errors: number; warnings: number };
      problems: { ruleId: string; severity: string; location: { pointer: string }[] }[];
    };
    const problems = report.problems.map(
      (p) => `${p.severity} ${p.ruleId} ${p.location.map((l) => l.pointer).join(" ")}`,
    );
    expect(problems).toEqual([
      "warn operation-4xx-response #/paths/~1health/get/responses",
      "warn operation-4xx-response #/paths/~1ready/get/responses",
    ]);
    expect(report.totals.errors).toBe(0);
    expect(run.status).toBe(0);
  });

  it("gives every route examples: bodies, parameters, JSON answers and problems", () => {
    let operations = 0;
    for (const [path, methods] of Object.entries(doc.paths as Json)) {
      for (const [method, op] of Object.entries(methods as Json)) {
        operations++;
        const where = `${method.toUpperCase()} ${path}`;
        const json = op.requestBody?.content?.["application/json"];
        if (json) expect(json.example, `${where} body`).toBeDefined();
        for (const parameter of op.parameters ?? []) {
          expect(parameter.example, `${where} ${parameter.name}`).toBeDefined();
        }
        let success = 0;
        for (const [status, response] of Object.entries(op.responses as Json)) {
          const content = (response as Json).content as Json | undefined;
          if (Number(status) >= 400) {
            expect(Object.keys(content ?? {}), `${where} ${status}`).toEqual([
              "application/problem+json",
            ]);
            const example = content!["application/problem+json"].example;
            expect(example?.status, `${where} ${status}`).toBe(Number(status));
            continue;
          }
          const media = content?.["application/json"] ?? content?.["text/plain"];
          if (media) {
            expect(media.example, `${where} ${status}`).toBeDefined();
            success++;
          }
        }
        const binaryOrEmpty = ["delete /v1/users/{user}", "get /v1/users/{user}/adapter"];
        if (!binaryOrEmpty.includes(`${method} ${path}`)) {
          expect(success, `${where} has an example answer`).toBeGreaterThan(0);
        }
      }
    }
    expect(operations).toBeGreaterThanOrEqual(14);
    for (const key of Object.keys(ROUTE_EXAMPLES)) {
      const [method, route] = key.split(" ") as [string, string];
      const path = route.replace(/:(\w+)/g, "{$1}");
      expect(doc.paths[path]?.[method.toLowerCase()], `${key} is a route`).toBeDefined();
    }
    expect(doc.paths["/v1/jobs/{id}"].get.responses["429"].headers["Retry-After"]).toBeDefined();
  });

  it("refuses to build with an example its schema rejects", async () => {
    const examples = ROUTE_EXAMPLES["POST /v1/rank"]!;
    const original = examples.body;
    examples.body = { prompt: "p", responses: [] };
    try {
      await expect(generateOpenApiDocument(VERSION)).rejects.toThrow(
        /example of POST \/v1\/rank body does not fit its schema/,
      );
    } finally {
      examples.body = original;
    }
  });
});

describe("/openapi.json and /docs on a running server", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.close();
  });

  it("serves the same document, and Swagger UI from local assets", async () => {
    const served = await t.get("/openapi.json");
    expect(served.status).toBe(200);
    expect(diffOpenApi(JSON.parse(await readFile(OPENAPI_FILE, "utf8")), served.body)).toEqual([]);
    const page = await t.get("/docs/");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
    expect(page.body).not.toMatch(/src="https?:|href="https?:/);
    const scripts = [...String(page.body).matchAll(/src="([^"]+)"/g)].map((m) => m[1]!);
    expect(scripts.length).toBeGreaterThan(0);
    for (const src of scripts) {
      const asset = await fetch(new URL(src, `${t.url}/docs/`));
      expect(asset.status, src).toBe(200);
      expect((await asset.arrayBuffer()).byteLength, src).toBeGreaterThan(0);
    }
    expect((await t.get("/docs/json")).body.openapi).toBe("3.1.0");
  });
});
