import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Config, loadConfig, type SettingName } from "../../src/config.js";
import { type RunningServer, startServer } from "../../src/server.js";

export interface TestResponse {
  status: number;
  body: any;
  headers: Headers;
}

/** Requests that all carry the same headers, e.g. an API key. */
export interface TestClient {
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<TestResponse>;
  get(path: string, headers?: Record<string, string>): Promise<TestResponse>;
  /** Any method; a Uint8Array body goes as application/octet-stream, anything else as JSON. */
  send(
    method: string,
    path: string,
    options?: { body?: unknown; headers?: Record<string, string> },
  ): Promise<TestResponse>;
}

export interface TestServer {
  server: RunningServer;
  url: string;
  adaptersDir: string;
  config: Config;
  post(
    path: string,
    body: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: any; headers: Headers }>;
  get(
    path: string,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: any; headers: Headers }>;
  close(): Promise<void>;
  send: TestClient["send"];
  /** A client sending `Authorization: Bearer <apiKey>` with every request. */
  as(apiKey: string): TestClient;
}

/** The real server with the real default model, listening on a loopback port of its own. */
export async function startTestServer(
  overrides: Partial<Record<SettingName, unknown>> = {},
): Promise<TestServer> {
  const adaptersDir = await mkdtemp(join(tmpdir(), "sharelora-adapters-"));
  const config = loadConfig(
    {
      port: 0,
      host: "127.0.0.1",
      adapters: adaptersDir,
      logLevel: "silent",
      device: "cpu",
      ...overrides,
    },
    {},
  );
  const server = await startServer(config, { logger: false });
  const url = server.url;
  const parse = async (response: Response) => {
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {}
    return { status: response.status, body, headers: response.headers };
  };
  const send: TestClient["send"] = async (method, path, options = {}) => {
    const { body, headers = {} } = options;
    const binary = body instanceof Uint8Array;
    const init: RequestInit = { method, headers: { ...headers } };
    if (body !== undefined) {
      init.headers = {
        "content-type": binary ? "application/octet-stream" : "application/json",
        ...headers,
      };
      init.body =
        binary || typeof body === "string" ? (body as RequestInit["body"]) : JSON.stringify(body);
    }
    return parse(await fetch(url + path, init));
  };
  const as = (apiKey: string): TestClient => {
    const auth = { authorization: `Bearer ${apiKey}` };
    return {
      post: (path, body, headers = {}) =>
        send("POST", path, { body, headers: { ...auth, ...headers } }),
      get: (path, headers = {}) => send("GET", path, { headers: { ...auth, ...headers } }),
      send: (method, path, options = {}) =>
        send(method, path, { ...options, headers: { ...auth, ...options.headers } }),
    };
  };
  return {
    server,
    url,
    adaptersDir,
    config,
    send,
    as,
    post: async (path, body, headers = {}) =>
      parse(
        await fetch(url + path, {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: typeof body === "string" ? body : JSON.stringify(body),
        }),
      ),
    get: async (path, headers = {}) => parse(await fetch(url + path, { headers })),
    close: async () => {
      await server.close();
      await rm(adaptersDir, { recursive: true, force: true });
    },
  };
}
