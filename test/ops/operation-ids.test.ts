import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, buildApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { AppState } from "../../src/http/app-state.js";
import { DOCS_PREFIX, OPENAPI_ROUTE } from "../../src/http/docs.js";
import { OPERATION_IDS, operationIdOf } from "../../src/http/operation-ids.js";
import { VERSION } from "../../src/server.js";

type Json = Record<string, any>;

/**
 * "METHOD /pattern" of every route, read from fastify's route tree (printRoutes with
 * commonPrefix: false): each level indents by four characters and continues its parent's path.
 */
function registeredRoutes(tree: string): string[] {
  const lines = tree.split("\n").filter((line) => line.includes("── "));
  const stack: string[] = [];
  const routes: string[] = [];
  for (const line of lines) {
    const match = /^((?:[│ ] {3})*)[├└]── (\S+)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) throw new Error(`Unexpected line in fastify's route tree: ${line}`);
    stack.length = match[1]!.length / 4;
    stack.push(match[2]!);
    for (const method of match[3]?.split(", ") ?? []) routes.push(`${method} ${stack.join("")}`);
  }
  return routes;
}

/** The docs UI and the document itself stay out of the document; HEAD is GET's twin. */
function documentable(route: string): boolean {
  const [method, url] = route.split(" ") as [string, string];
  return method !== "HEAD" && url !== OPENAPI_ROUTE && !url.startsWith(DOCS_PREFIX);
}

function missingOperationIds(routes: string[]): string[] {
  return routes.filter(documentable).filter((route) => {
    const [method, url] = route.split(" ") as [string, string];
    return operationIdOf(method, url) === undefined;
  });
}

describe("operationIds", () => {
  let app: App;
  let routes: string[];
  let doc: Json;
  beforeAll(async () => {
    app = await buildApp({ config: loadConfig({}, {}), state: new AppState(VERSION) });
    await app.ready();
    routes = registeredRoutes(app.printRoutes({ commonPrefix: false }));
    doc = JSON.parse(JSON.stringify(app.swagger()));
  });
  afterAll(async () => {
    await app.close();
  });

  it("reads the registered routes", () => {
    expect(routes).toEqual(
      expect.arrayContaining([
        "GET /health",
        "HEAD /health",
        "POST /v1/score",
        "PUT /v1/users/:user/adapter",
        "GET /v1/jobs/:id",
        "GET /docs/json",
      ]),
    );
    expect(
      registeredRoutes("├── /a (GET)\n│   └── /b (POST, PUT)\n└── /c/\n    └── d (GET)"),
    ).toEqual(["GET /a", "POST /a/b", "PUT /a/b", "GET /c/d"]);
  });

  it("has an entry in src/http/operation-ids.ts for every registered route", () => {
    expect(missingOperationIds(routes)).toEqual([]);
    expect(missingOperationIds([...routes, "POST /v1/something-new"])).toEqual([
      "POST /v1/something-new",
    ]);
  });

  it("gives every operation of the document its entry, and documents every route", () => {
    const documented: string[] = [];
    for (const [path, operations] of Object.entries(doc.paths as Json)) {
      for (const [method, op] of Object.entries(operations as Json)) {
        const route = `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ":$1")}`;
        documented.push(route);
        expect(op.operationId, route).toBe(OPERATION_IDS[route]);
      }
    }
    expect(documented.sort()).toEqual(routes.filter(documentable).sort());
    expect(Object.keys(doc.paths).some((path) => path.startsWith(DOCS_PREFIX))).toBe(false);
    expect(doc.paths[OPENAPI_ROUTE]).toBeUndefined();
  });

  it("keeps ids unique and identifier-like", () => {
    const ids = Object.values(OPERATION_IDS);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[a-z][A-Za-z0-9]*$/);
    expect(OPERATION_IDS["POST /get_reward"]).toBe("getReward");
    expect(OPERATION_IDS["POST /classify"]).toBe("classify");
    expect(OPERATION_IDS["POST /v1/classify"]).toBe("classifyV1");
  });
});
