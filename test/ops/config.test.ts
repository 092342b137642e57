import { describe, expect, it } from "vitest";
import {
  ConfigError,
  envName,
  flagName,
  loadConfig,
  renderSettingsTable,
  SETTINGS,
} from "../../src/config.js";
import {
  ApiKeyring,
  hashApiKey,
  parseApiKeyFile,
  parseApiKeyList,
} from "../../src/http/api-keys.js";
import { isLoopback, resolveAuth, routeAccess } from "../../src/http/auth.js";

describe("settings", () => {
  it("every setting has a flag, a SHARELORA_* variable, a default and help, and is in the table", () => {
    const table = renderSettingsTable();
    for (const [name, setting] of Object.entries(SETTINGS)) {
      expect(flagName(name), name).toMatch(/^--[a-z][a-z0-9-]*$/);
      expect(envName(name), name).toMatch(/^SHARELORA_[A-Z0-9_]+$/);
      expect(Object.hasOwn(setting, "default"), `${name} declares a default`).toBe(true);
      expect(setting.help.trim().length, `${name} has help`).toBeGreaterThan(3);
      expect(setting.arg.length, `${name} names its argument`).toBeGreaterThan(0);
      expect(table).toContain(`\`${flagName(name)} `);
      expect(table).toContain(`\`${envName(name)}\``);
      if (setting.default !== undefined) {
        expect(setting.schema.safeParse(setting.default).success, `${name} default is valid`).toBe(
          true,
        );
      }
    }
    expect(table.split("\n")).toHaveLength(Object.keys(SETTINGS).length + 2);
  });

  it("reads the new settings from variables, with clear errors", () => {
    const config = loadConfig(
      {},
      {
        SHARELORA_METRICS_PORT: "9100",
        SHARELORA_PROTECT_METRICS: "yes",
        SHARELORA_AUTH: "on",
        SHARELORA_SHUTDOWN_TIMEOUT_MS: "5000",
      },
    );
    expect(config.metricsPort).toBe(9100);
    expect(config.protectMetrics).toBe(true);
    expect(config.auth).toBe("on");
    expect(config.shutdownTimeoutMs).toBe(5000);
    expect(loadConfig({ protectMetrics: true }, {}).protectMetrics).toBe(true);
    expect(loadConfig({}, {}).allowUnauthenticatedPublic).toBe(false);
    expect(() => loadConfig({}, { SHARELORA_AUTH: "maybe" })).toThrow(/SHARELORA_AUTH/);
    expect(() => loadConfig({ protectMetrics: "perhaps" }, {})).toThrow(
      /--protect-metrics: expected true or false/,
    );
  });
});

describe("API key lists and files", () => {
  const key = "k_0123456789abcdefXYZ";

  it("parses entries with scopes, prefixes and either a key or its hash", () => {
    const keys = parseApiKeyList(
      `name=a,scopes=score+fit,prefix=acme:,key=${key};\n name=b, scopes=admin, sha256=${hashApiKey("other-key-0123456789")}`,
      "test",
    );
    expect(keys.map((k) => k.name)).toEqual(["a", "b"]);
    expect([...keys[0]!.scopes]).toEqual(["score", "fit"]);
    expect(keys[0]!.prefix).toBe("acme:");
    expect(keys[1]!.prefix).toBeUndefined();
    const ring = new ApiKeyring(keys);
    expect(ring.authenticate(key)?.name).toBe("a");
    expect(ring.authenticate("other-key-0123456789")?.name).toBe("b");
    expect(ring.authenticate(`${key}x`)).toBeUndefined();
    expect(ring.authenticate("")).toBeUndefined();
  });

  it("rejects malformed entries without echoing the key", () => {
    const bad = [
      `name=a,scopes=read,key=${key}`,
      `name=a,scopes=score`,
      `name=a,scopes=score,key=${key},sha256=${"0".repeat(64)}`,
      "name=a,scopes=score,key=short",
      `name=a b,scopes=score,key=${key}`,
      `name=a,scopes=score,prefix=acme corp,key=${key}`,
      `name=a,scopes=score,secret=${key}`,
      `name=a,scopes=score,sha256=ABC`,
    ];
    for (const text of bad) {
      let error: unknown;
      try {
        parseApiKeyList(text, "SHARELORA_API_KEYS");
      } catch (e) {
        error = e;
      }
      expect(error, text).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(/SHARELORA_API_KEYS, entry 1/);
      expect((error as Error).message).not.toContain(key);
    }
  });

  it("reads hash files and refuses keys in them", () => {
    const hash = hashApiKey(key);
    const keys = parseApiKeyFile(
      JSON.stringify({ keys: [{ name: "f", scopes: ["fit"], prefix: "t1:", sha256: hash }] }),
      "keys.json",
    );
    expect(new ApiKeyring(keys).authenticate(key)?.scopes.has("fit")).toBe(true);
    expect(() =>
      parseApiKeyFile(JSON.stringify({ keys: [{ name: "f", scopes: ["fit"], key }] }), "keys.json"),
    ).toThrow(ConfigError);
    expect(() => parseApiKeyFile("{", "keys.json")).toThrow(/keys.json: not valid JSON/);
  });
});

describe("when authentication is off", () => {
  const base = {
    auth: "auto" as const,
    protectMetrics: false,
    allowUnauthenticatedPublic: false,
  };

  it("listens on loopback without keys, and refuses a public address unless told", async () => {
    expect((await resolveAuth({ ...base, host: "127.0.0.1" })).keyring).toBeNull();
    expect((await resolveAuth({ ...base, host: "::1" })).keyring).toBeNull();
    await expect(resolveAuth({ ...base, host: "0.0.0.0" })).rejects.toThrow(
      /Refusing to listen on 0.0.0.0 without authentication/,
    );
    await expect(resolveAuth({ ...base, auth: "off", host: "0.0.0.0" })).rejects.toThrow(
      ConfigError,
    );
    const open = await resolveAuth({ ...base, host: "0.0.0.0", allowUnauthenticatedPublic: true });
    expect(open.keyring).toBeNull();
    await expect(resolveAuth({ ...base, auth: "on", host: "127.0.0.1" })).rejects.toThrow(
      /--auth on needs API keys/,
    );
    const keyed = await resolveAuth({
      ...base,
      host: "0.0.0.0",
      apiKeys: "name=a,scopes=score,key=k_0123456789abcdef",
    });
    expect(keyed.keyring?.size).toBe(1);
    expect(isLoopback("localhost")).toBe(true);
    expect(isLoopback("10.0.0.1")).toBe(false);
  });

  it("maps routes to scopes; an unlisted /v1 route needs admin", () => {
    const open = { protectMetrics: false };
    expect(routeAccess("POST", "/v1/score", open)).toEqual(["score"]);
    expect(routeAccess("HEAD", "/v1/users/:user", open)).toEqual(["fit", "admin"]);
    expect(routeAccess("POST", "/v1/something-new", open)).toEqual(["admin"]);
    expect(routeAccess("GET", "/metrics", open)).toBe("open");
    expect(routeAccess("GET", "/metrics", { protectMetrics: true })).toBe("authenticated");
    expect(routeAccess("GET", undefined, open)).toBe("open");
  });
});
