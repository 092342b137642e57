import { isIP } from "node:net";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { ConfigError } from "../config.js";
import { type ApiKey, ApiKeyring, loadApiKeys, type Scope } from "./api-keys.js";
import { ProblemError } from "./problem-error.js";

/** open: anyone; authenticated: any valid key; otherwise a key holding one of the scopes. */
export type Access = "open" | "authenticated" | readonly Scope[];

/**
 * Who may call what. A /v1 route missing from this table needs `admin`, so a new endpoint is
 * never open by accident; routes outside /v1 (health, readiness, docs) are open unless listed
 * (the trainers' own paths, /get_reward and /classify, are).
 */
export const ROUTE_ACCESS: Readonly<Record<string, Access>> = {
  "GET /v1/info": "authenticated",
  "POST /v1/score": ["score"],
  "POST /v1/compare": ["score"],
  "POST /v1/rank": ["score"],
  "POST /v1/rewards/shaped": ["score"],
  "POST /get_reward": ["score"],
  "POST /classify": ["score"],
  "POST /v1/classify": ["score"],
  "POST /v1/users/:user/fit": ["fit"],
  "POST /v1/users/:user/queries": ["fit"],
  "GET /v1/jobs/:id": ["fit"],
  "GET /v1/users/:user": ["fit", "admin"],
  "DELETE /v1/users/:user": ["admin"],
  "GET /v1/users/:user/adapter": ["admin"],
  "PUT /v1/users/:user/adapter": ["admin"],
};

export function routeAccess(
  method: string,
  route: string | undefined,
  options: { protectMetrics: boolean },
): Access {
  if (route === undefined) return "open";
  if (route === "/metrics") return options.protectMetrics ? "authenticated" : "open";
  const verb = method === "HEAD" ? "GET" : method;
  const listed = ROUTE_ACCESS[`${verb} ${route}`];
  if (listed !== undefined) return listed;
  return route.startsWith("/v1/") ? ["admin"] : "open";
}

/** How `auth` resolves: the keys in force, or null when nobody is asked for a key. */
export interface AuthSetup {
  keyring: ApiKeyring | null;
  protectMetrics: boolean;
}

export function isLoopback(host: string): boolean {
  if (host === "localhost") return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  if (isIP(host) === 6) return host === "::1" || host.startsWith("::ffff:127.");
  return false;
}

/**
 * auth=on needs keys; auth=auto turns on when keys exist. Without authentication the server
 * only listens on loopback, unless --allow-unauthenticated-public says otherwise.
 */
export async function resolveAuth(config: {
  auth: "auto" | "on" | "off";
  apiKeys?: string | undefined;
  apiKeysFile?: string | undefined;
  protectMetrics: boolean;
  host: string;
  allowUnauthenticatedPublic: boolean;
}): Promise<AuthSetup> {
  const keys: ApiKey[] = config.auth === "off" ? [] : await loadApiKeys(config);
  if (config.auth === "on" && keys.length === 0) {
    throw new ConfigError(
      "--auth on needs API keys: set SHARELORA_API_KEYS or --api-keys-file (see the README)",
    );
  }
  const keyring = keys.length > 0 ? new ApiKeyring(keys) : null;
  if (keyring === null && !isLoopback(config.host) && !config.allowUnauthenticatedPublic) {
    throw new ConfigError(
      `Refusing to listen on ${config.host} without authentication: configure API keys ` +
        "(SHARELORA_API_KEYS or --api-keys-file), listen on 127.0.0.1, or pass " +
        "--allow-unauthenticated-public",
    );
  }
  return { keyring, protectMetrics: config.protectMetrics };
}

const REALM = 'Bearer realm="sharelora"';

function bearerToken(header: string | undefined): string | undefined {
  return /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? "")?.[1];
}

/** For listeners outside fastify (metricsPort): undefined when metrics are open. */
export function metricsAuthorizer(
  setup: AuthSetup,
): ((authorization: string | undefined) => boolean) | undefined {
  const keyring = setup.keyring;
  if (keyring === null || !setup.protectMetrics) return undefined;
  return (authorization) => {
    const token = bearerToken(authorization);
    return token !== undefined && keyring.authenticate(token) !== undefined;
  };
}

declare module "fastify" {
  interface FastifyRequest {
    /** The request's API key, once authenticated; null when keys are off. */
    apiKey: ApiKey | null;
  }
}

function outsidePrefix(key: ApiKey | null | undefined, user: unknown): boolean {
  const prefix = key?.prefix;
  return prefix !== undefined && typeof user === "string" && !user.startsWith(prefix);
}

/**
 * 403 unless the request's key may act for every one of `users`; for routes whose users come from
 * somewhere only the route knows (OpenRLHF labels, a vLLM model name).
 */
export function assertMayActFor(request: FastifyRequest, users: Iterable<string>): void {
  for (const user of users) if (!mayActFor(request, user)) throw forbiddenUser();
}

/**
 * For resources a route finds by an id of their own (jobs): one the key may not act for must
 * answer exactly like one that does not exist, or the answer would tell that it exists.
 */
export function mayActFor(request: FastifyRequest, user: string): boolean {
  return !outsidePrefix(request.apiKey, user);
}

/** Every user a scoring body names: `user`, `users[]` and each item's `user`. */
function bodyUsers(body: Record<string, unknown>): unknown[] {
  const users: unknown[] = [body["user"]];
  if (Array.isArray(body["users"])) users.push(...body["users"]);
  if (Array.isArray(body["items"])) {
    for (const item of body["items"]) {
      if (typeof item === "object" && item !== null) users.push((item as { user?: unknown }).user);
    }
  }
  return users;
}

function forbiddenUser(): ProblemError {
  return new ProblemError("FORBIDDEN", "This API key may not act for this user");
}

/**
 * onRequest: 401 without a valid key, 403 without the route's scope or for a user outside the
 * key's prefix (path parameter); preValidation: the same for a body's `user`.
 */
export function registerAuth(app: FastifyInstance, setup: AuthSetup): void {
  app.decorateRequest("apiKey", null);
  const keyring = setup.keyring;
  if (keyring === null) return;
  const challenge = (reply: FastifyReply, header: string, error: ProblemError): ProblemError => {
    void reply.header("www-authenticate", header);
    return error;
  };
  app.addHook("onRequest", async (request, reply) => {
    const route = request.routeOptions.url;
    const access = routeAccess(request.method, route, setup);
    if (access === "open") return;
    const token = bearerToken(request.headers.authorization);
    const key = token === undefined ? undefined : keyring.authenticate(token);
    if (key === undefined) {
      const detail =
        token === undefined
          ? "Send an API key as 'Authorization: Bearer <key>'"
          : "The API key is not valid";
      throw challenge(
        reply,
        token === undefined ? REALM : `${REALM}, error="invalid_token"`,
        new ProblemError("UNAUTHORIZED", detail),
      );
    }
    if (access !== "authenticated" && !access.some((scope) => key.scopes.has(scope))) {
      throw challenge(
        reply,
        `${REALM}, error="insufficient_scope", scope="${access.join(" ")}"`,
        new ProblemError("FORBIDDEN", `This API key lacks the scope ${access.join(" or ")}`),
      );
    }
    const params = request.params as Record<string, unknown> | undefined;
    if (outsidePrefix(key, params?.["user"])) throw forbiddenUser();
    request.apiKey = key;
  });
  app.addHook("preValidation", async (request) => {
    const key = request.apiKey;
    if (key?.prefix === undefined) return;
    const body = request.body as Record<string, unknown> | null | undefined;
    if (typeof body !== "object" || body === null) return;
    if (bodyUsers(body).some((user) => outsidePrefix(key, user))) throw forbiddenUser();
  });
}
