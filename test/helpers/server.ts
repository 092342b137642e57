import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Config, loadConfig, type SettingName } from "../../src/config.js";
import { type RunningServer, startServer } from "../../src/server.js";

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
  return {
    server,
    url,
    adaptersDir,
    config,
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
