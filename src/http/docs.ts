import fastifySwagger, { type SwaggerTransform } from "@fastify/swagger";
import fastifySwaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance, FastifySchema } from "fastify";
import {
  createJsonSchemaTransform,
  createJsonSchemaTransformObject,
} from "fastify-type-provider-zod";
import { z } from "zod";
import { SETTINGS } from "../config.js";
import { problem } from "../schemas/common.js";
import { ROUTE_EXAMPLES } from "../schemas/examples.js";
import { type Access, routeAccess } from "./auth.js";
import { isLimitedRoute } from "./concurrency.js";
import { operationIdOf } from "./operation-ids.js";
import { PROBLEMS, type ProblemCode, ProblemError } from "./problem-error.js";

type Json = Record<string, unknown>;

/** One shared component instead of a copy of the problem schema in every error answer. */
if (z.globalRegistry.get(problem)?.id === undefined) {
  z.globalRegistry.add(problem, { ...z.globalRegistry.get(problem), id: "Problem" });
}

export const DOCS_PREFIX = "/docs";
export const OPENAPI_ROUTE = "/openapi.json";
const SECURITY_SCHEME = "bearerAuth";

/** How each error status is described and illustrated in the document. */
const PROBLEM_STATUSES: Record<
  string,
  { description: string; example: [ProblemCode, string, string?] }
> = {
  400: {
    description: "Invalid request; `field` names the offending field",
    example: [
      "INVALID_REQUEST",
      "user: expected 1-128 characters of A-Z a-z 0-9 . _ : @ -",
      "user",
    ],
  },
  401: {
    description: "Missing or invalid API key",
    example: ["UNAUTHORIZED", "Send an API key as 'Authorization: Bearer <key>'"],
  },
  403: {
    description: "The API key lacks the scope, or the user id is outside the key's prefix",
    example: ["FORBIDDEN", "This API key lacks the scope score"],
  },
  404: {
    description: "Not found",
    example: ["USER_NOT_FOUND", "No adapter is stored for this user"],
  },
  408: {
    description:
      "The body did not arrive in time (--body-timeout-ms, or slower than --min-body-bytes-per-s); the connection is closed",
    example: ["REQUEST_TIMEOUT", "The request body arrived slower than 1024 bytes/s"],
  },
  409: {
    description:
      'The stored state rules the request out: an append fit to a stale adapter\'s pairs (send all of the user\'s pairs again with "mode": "replace"), or a fit under a head without a shared basis (B = 0; learn B with sharelora fit --keep-theta0)',
    example: [
      "CONFLICT",
      'The stored adapter of user alice was fitted against head 0f1e2d3c4b5a6978, not the served head e91eb8da3d6dddcd; its 12 stored pair statistics cannot be recomputed for this head because raw texts are never stored. Send all of the user\'s pairs again with "mode": "replace"',
      "mode",
    ],
  },
  413: {
    description: "Over a size limit (body bytes, pairs per fit)",
    example: ["PAYLOAD_TOO_LARGE", "The request body is too large"],
  },
  415: {
    description: "Unsupported content type",
    example: ["UNSUPPORTED_MEDIA_TYPE", "Send the adapter as application/octet-stream"],
  },
  429: {
    description: "Overloaded: too many requests in flight, or the backbone queue is full",
    example: ["OVERLOADED", "The backbone queue is full (8192 texts)"],
  },
  500: { description: "Internal error", example: ["INTERNAL", "Internal error"] },
  503: {
    description: "The model is loading, or the server is shutting down",
    example: ["NOT_READY", "The model is still loading"],
  },
  504: {
    description: "The request outlived its time limit",
    example: ["TIMEOUT", "The request took longer than 30000 ms"],
  },
};

const PROBLEM_TYPE = "application/problem+json";

function problemExample(status: string, route: string, instance: string): Json | undefined {
  const entry: [ProblemCode, string, string?] | undefined =
    status === "404" && route.startsWith("/v1/jobs/")
      ? ["JOB_NOT_FOUND", "No such job (jobs are kept in memory for an hour)"]
      : PROBLEM_STATUSES[status]?.example;
  if (!entry || PROBLEMS[entry[0]].status !== Number(status)) return undefined;
  const [code, detail, field] = entry;
  const extensions = code === "OVERLOADED" ? { retry_after_s: 1 } : {};
  return new ProblemError(code, detail, { ...(field ? { field } : {}), extensions }).toProblem(
    instance,
  );
}

const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );

function checkExample(route: string, where: string, schema: unknown, example: unknown): void {
  const parsed = (schema as z.ZodType).safeParse(example);
  if (!parsed.success) {
    throw new TypeError(
      `The OpenAPI example of ${route} ${where} does not fit its schema: ${parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join(".")}: ${i.message}`)
        .join("; ")}`,
    );
  }
  if (where.startsWith("response") && canonical(parsed.data) !== canonical(example)) {
    throw new TypeError(`The OpenAPI example of ${route} ${where} has fields its schema drops`);
  }
}

/** Open routes say so with an empty list, so that no document-wide default applies to them. */
function securityOf(access: Access): Record<string, string[]>[] {
  return access === "open" ? [] : [{ [SECURITY_SCHEME]: [] }];
}

function accessText(access: Access, keyWhenProtected: boolean): string {
  if (access === "open" && keyWhenProtected) {
    return "No API key needed, unless the server runs with --protect-metrics: then any valid key.";
  }
  if (access === "open") return "No API key needed.";
  if (access === "authenticated") return "Needs an API key (any scope).";
  return `Needs an API key with the scope ${access.map((s) => `\`${s}\``).join(" or ")}.`;
}

/**
 * Wraps the zod transform: adds each route's operationId from OPERATION_IDS, its security
 * requirement and 401/403 answers from the auth table, 429 where the concurrency limit applies,
 * and attaches the examples of ROUTE_EXAMPLES after checking them against the route's
 * zod schemas, plus an example problem for every error status.
 */
function documentTransform(): SwaggerTransform {
  const zodTransform = createJsonSchemaTransform({
    skipList: [OPENAPI_ROUTE, `${DOCS_PREFIX}/*`, `${DOCS_PREFIX}/static/*`],
  });
  return (document) => {
    const { route, url } = document;
    const zodSchema = document.schema as FastifySchema & Json;
    if (!zodSchema || url === OPENAPI_ROUTE || url.startsWith(DOCS_PREFIX)) {
      return { schema: { ...zodSchema, hide: true }, url };
    }
    const method = (Array.isArray(route.method) ? route.method[0] : route.method) as string;
    const key = `${method} ${url}`;
    const access = routeAccess(method, url, { protectMetrics: false });
    const keyWhenProtected = routeAccess(method, url, { protectMetrics: true }) !== "open";
    const responses = { ...(zodSchema.response as Json | undefined) };
    if (access !== "open") {
      responses[401] = problem;
      responses[403] = problem;
    } else if (keyWhenProtected) {
      responses[401] = {
        description: "Only with --protect-metrics: missing or invalid API key",
        content: { [PROBLEM_TYPE]: { schema: problem } },
      };
    }
    if (isLimitedRoute(url)) responses[429] ??= problem;
    if (zodSchema.body !== undefined) responses[408] ??= problem;
    if (method === "GET") {
      // Fastify reads no body for GET, so neither its size nor its type can be refused.
      delete responses[413];
      delete responses[415];
    }
    const examples = ROUTE_EXAMPLES[key] ?? {};
    if (examples.body !== undefined) checkExample(key, "body", zodSchema.body, examples.body);
    if (examples.params !== undefined)
      checkExample(key, "params", zodSchema.params, examples.params);
    if (examples.query !== undefined)
      checkExample(key, "query", zodSchema.querystring, examples.query);
    for (const [status, example] of Object.entries(examples.responses ?? {})) {
      checkExample(key, `response ${status}`, responses[status], example);
    }
    for (const [status, schema] of Object.entries(responses)) {
      const described = PROBLEM_STATUSES[status];
      if (schema !== problem || !described) continue;
      responses[status] = {
        description: described.description,
        content: { [PROBLEM_TYPE]: { schema: problem } },
      };
    }
    const instance = url.replace(/:(\w+)/g, (_m, name: string) => examples.params?.[name] ?? name);
    const described = [zodSchema.description, accessText(access, keyWhenProtected)]
      .filter(Boolean)
      .join("\n\n");
    const operationId = operationIdOf(method, url) ?? zodSchema.operationId;
    const result = zodTransform({
      ...document,
      schema: {
        ...zodSchema,
        ...(operationId === undefined ? {} : { operationId }),
        response: responses,
        description: described,
        security: securityOf(access),
        ...(Array.isArray(access) ? { "x-scopes": access } : {}),
      },
    });
    const json = result.schema as Json;
    const body = json.body as Json | undefined;
    if (body && examples.body !== undefined) body.examples ??= [examples.body];
    const params = (json.params as { properties?: Record<string, Json> } | undefined)?.properties;
    for (const [name, value] of Object.entries(examples.params ?? {})) {
      if (params?.[name]) params[name].examples ??= [value];
    }
    const query = (json.querystring as { properties?: Record<string, Json> } | undefined)
      ?.properties;
    for (const [name, value] of Object.entries(examples.query ?? {})) {
      if (query?.[name]) query[name].examples ??= [value];
    }
    for (const [status, schema] of Object.entries((json.response ?? {}) as Record<string, Json>)) {
      const media = (schema.content as Record<string, Json> | undefined)?.[PROBLEM_TYPE];
      if (media) media.example ??= problemExample(status, url, instance);
      const example = examples.responses?.[Number(status)];
      if (!media && example !== undefined) schema.examples ??= [example];
    }
    return result;
  };
}

/** Drops component schemas nothing refers to (the zod transform adds an input twin of each). */
function dropUnusedComponents(document: Json): Json {
  const components = document.components as { schemas?: Record<string, unknown> } | undefined;
  const schemas = components?.schemas ?? {};
  for (const name of Object.keys(schemas)) {
    const { [name]: _self, ...others } = schemas;
    const ref = JSON.stringify(`#/components/schemas/${name}`);
    const elsewhere = JSON.stringify({ ...document, components: { schemas: others } });
    if (!elsewhere.includes(ref)) delete schemas[name];
  }
  return document;
}

/** Documents the headers that come with 401 (WWW-Authenticate) and 429 (Retry-After). */
function problemHeaders(document: Json): Json {
  const paths = (document.paths ?? {}) as Record<string, Record<string, Json>>;
  for (const operations of Object.values(paths)) {
    for (const operation of Object.values(operations)) {
      const responses = (operation.responses ?? {}) as Record<string, Json>;
      if (responses[401]) {
        responses[401].headers = {
          "WWW-Authenticate": {
            description: 'Bearer realm="sharelora", with error="invalid_token" for a wrong key',
            schema: { type: "string" },
          },
        };
      }
      if (responses[429]) {
        responses[429].headers = {
          "Retry-After": {
            description: "Seconds to wait before retrying",
            schema: { type: "integer", minimum: 1 },
          },
        };
      }
    }
  }
  return document;
}

/**
 * OpenAPI 3.1 from the routes' zod schemas: GET /openapi.json, and Swagger UI at /docs with its
 * assets served from the package (no CDN). Register before the routes: the document collects
 * them as they are added.
 */
export async function registerDocs(app: FastifyInstance, options: { version: string }) {
  const zodObject = createJsonSchemaTransformObject({});
  await app.register(fastifySwagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "sharelora",
        version: options.version,
        description:
          "Personalized reward-model inference (P-ShareLoRA). Errors are RFC 9457 problem " +
          "details. API keys go in `Authorization: Bearer <key>`; each operation says the scope it " +
          "needs. A key limited to a user-id prefix may only act for users whose id starts with it.",
        license: { name: "Apache-2.0", identifier: "Apache-2.0" },
      },
      // Self-hosted, so no one URL: the defaults are a local server on the default port.
      servers: [
        {
          url: "{scheme}://{host}:{port}",
          description: "Wherever `sharelora serve` listens (--host, --port)",
          variables: {
            scheme: { default: "http", enum: ["http", "https"] },
            host: { default: "localhost" },
            port: { default: String(SETTINGS.port.default) },
          },
        },
      ],
      tags: [
        { name: "health", description: "Liveness and readiness probes" },
        { name: "info", description: "Model and limits" },
        { name: "scoring", description: "Rewards, comparisons, rankings and shaped rewards" },
        { name: "users", description: "Per-user adapters: fit, inspect, export, import, delete" },
        { name: "operations", description: "Metrics" },
      ],
      components: {
        securitySchemes: {
          [SECURITY_SCHEME]: {
            type: "http",
            scheme: "bearer",
            description:
              "An API key; its scopes (score, fit, admin) decide what it may call. An " +
              "operation's `x-scopes` lists the scopes it accepts, any one of which will do.",
          },
        },
      },
    },
    transform: documentTransform(),
    transformObject: (document) =>
      dropUnusedComponents(problemHeaders(zodObject(document) as Json)),
  });
  await app.register(fastifySwaggerUi, { routePrefix: DOCS_PREFIX });
  app.get(OPENAPI_ROUTE, { schema: { hide: true } as FastifySchema }, async () => app.swagger());
}
