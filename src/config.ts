import { fileURLToPath } from "node:url";
import { z } from "zod";

export const PACKAGE_ROOT = fileURLToPath(new URL("../", import.meta.url));
export const DEFAULT_MODEL_DIR = fileURLToPath(new URL("../models/default", import.meta.url));

const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max);

export const DEVICE_PATTERN = /^(cpu|auto|cuda(:\d+)?)$/;

const TRUE_WORDS = ["true", "1", "yes", "on"];
const FALSE_WORDS = ["false", "0", "no", "off"];

/** A bare CLI flag gives `true`; flags and variables also take true/false, 1/0, yes/no, on/off. */
const bool = z.preprocess(
  (value) => {
    if (typeof value !== "string") return value;
    const word = value.trim().toLowerCase();
    if (TRUE_WORDS.includes(word)) return true;
    return FALSE_WORDS.includes(word) ? false : value;
  },
  z.boolean({ error: "expected true or false" }),
);

/**
 * Every setting is declared once: its CLI flag, its SHARELORA_* variable, its default and its
 * validation derive from this table, and so does the README's configuration table.
 */
export const SETTINGS = {
  model: {
    schema: z.string().min(1),
    default: DEFAULT_MODEL_DIR,
    help: "Model directory (manifest.json, backbone.onnx)",
    arg: "dir",
  },
  head: {
    schema: z.string().min(1).optional(),
    default: undefined,
    help: "Head directory; default: the model's own head",
    arg: "dir",
  },
  adapters: {
    schema: z
      .string()
      .min(1)
      .refine(
        (spec) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(spec) || /^rediss?:\/\//i.test(spec),
        "expected a directory, or a redis:// or rediss:// URL",
      ),
    default: "adapters",
    help: "Adapter store: a directory, or redis://host:port/db",
    arg: "dir|url",
  },
  host: {
    schema: z.string().min(1),
    default: "127.0.0.1",
    help: "Address to listen on",
    arg: "host",
  },
  port: { schema: int(0, 65535), default: 8080, help: "Port to listen on", arg: "n" },
  device: {
    schema: z.string().regex(DEVICE_PATTERN, "expected cpu, cuda, cuda:N or auto"),
    default: "auto",
    help: "Execution provider: cpu, cuda[:N] or auto (CUDA if available, else CPU)",
    arg: "device",
  },
  intraOpThreads: {
    schema: int(0, 1024),
    default: 0,
    help: "onnxruntime intra-op threads (0: onnxruntime's default)",
    arg: "n",
  },
  maxBatchTokens: {
    schema: int(1),
    default: 16384,
    help: "Most padded tokens in one backbone batch",
    arg: "n",
  },
  maxBatchSize: {
    schema: int(1, 4096),
    default: 64,
    help: "Most sequences in one backbone batch",
    arg: "n",
  },
  maxWaitMs: {
    schema: z.coerce.number().min(0).max(1000),
    default: 1,
    help: "Longest wait for a batch to fill once the backbone is idle",
    arg: "ms",
  },
  maxQueued: {
    schema: int(1),
    default: 8192,
    help: "Most texts waiting for the backbone before requests get 429",
    arg: "n",
  },
  maxConcurrentRequests: {
    schema: int(1),
    default: 512,
    help: "Most requests in flight before new ones get 429",
    arg: "n",
  },
  requestTimeoutMs: {
    schema: int(1),
    default: 30000,
    help: "Time limit for one request",
    arg: "ms",
  },
  headersTimeoutMs: {
    schema: int(100, 3_600_000),
    default: 10000,
    help: "Time a client has to send a request's line and headers (408 beyond)",
    arg: "ms",
  },
  bodyTimeoutMs: {
    schema: int(100, 3_600_000),
    default: 30000,
    help: "Time a client has to send a request's body once its headers are in (408 beyond)",
    arg: "ms",
  },
  minBodyBytesPerS: {
    schema: int(0),
    default: 1024,
    help: "Slowest upload accepted: a body that falls behind this rate by more than the grace gets 408 (0: no minimum)",
    arg: "n",
  },
  bodyRateGraceMs: {
    schema: int(0, 3_600_000),
    default: 5000,
    help: "How far behind the minimum upload rate a body may fall before it is cut off",
    arg: "ms",
  },
  maxItems: {
    schema: int(1),
    default: 256,
    help: "Most items, pairs or responses in one request",
    arg: "n",
  },
  maxUsersPerRequest: {
    schema: int(1),
    default: 1000,
    help: "Most users one /v1/score request may list in `users` (every item scored for each)",
    arg: "n",
  },
  maxUserScores: {
    schema: int(1),
    default: 262144,
    help: "Most user × item rewards one /v1/score request may ask for",
    arg: "n",
  },
  unknownUser: {
    schema: z.enum(["global", "error"]),
    default: "global",
    help: "A user without an adapter gets the global reward (global) or a 404 naming the user (error); requests may override it with unknown_user",
    arg: "policy",
  },
  servedModelName: {
    schema: z
      .string()
      .trim()
      .min(1)
      .transform((names) =>
        names
          .split(",")
          .map((name) => name.trim())
          .filter((name) => name.length > 0),
      )
      .optional(),
    default: undefined,
    help: "Other names /classify accepts for the model besides its id, comma-separated (for example the Hugging Face repo a trainer is configured with)",
    arg: "names",
  },
  maxTextChars: {
    schema: int(1),
    default: 32768,
    help: "Longest prompt or response, in characters",
    arg: "n",
  },
  bodyLimitBytes: {
    schema: int(1024),
    default: 8 * 1024 * 1024,
    help: "Largest request body",
    arg: "bytes",
  },
  featureCacheBytes: {
    schema: int(0),
    default: 256 * 1024 * 1024,
    help: "Memory for cached per-text base rewards and projections",
    arg: "bytes",
  },
  adapterCacheBytes: {
    schema: int(0),
    default: 64 * 1024 * 1024,
    help: "Memory for cached user adapters",
    arg: "bytes",
  },
  negativeCacheMs: {
    schema: int(0),
    default: 2000,
    help: "How long an unknown user is remembered as unknown",
    arg: "ms",
  },
  adapterReadTimeoutMs: {
    schema: int(1, 600_000),
    default: 2000,
    help: "Longest read of one user's adapter from a directory store: a slower one fails for that user alone (503 with Retry-After) while other reads go on",
    arg: "ms",
  },
  fitSyncMaxPairs: {
    schema: int(1),
    default: 256,
    help: "Fits with up to this many pairs answer at once; larger ones run as jobs",
    arg: "n",
  },
  maxFitPairs: {
    schema: int(1),
    default: 4096,
    help: "Most preference pairs in one fit request (413 beyond)",
    arg: "n",
  },
  maxQueryTexts: {
    schema: int(2),
    default: 1024,
    help: "Most candidate responses, over all candidates, in one /v1/users/{user}/queries request (413 beyond)",
    arg: "n",
  },
  maxQueryPairs: {
    schema: int(1),
    default: 16384,
    help: "Most pairs the candidates of one /v1/users/{user}/queries request may make (413 beyond)",
    arg: "n",
  },
  maxStoredPairs: {
    schema: int(1),
    default: 1024,
    help: "Pair statistics kept per user for refits; the oldest are dropped first",
    arg: "n",
  },
  metricsPort: {
    schema: int(0, 65535),
    default: 0,
    help: "Serve GET /metrics on this port instead of the API port (0: on the API port)",
    arg: "n",
  },
  protectMetrics: {
    schema: bool,
    default: false,
    help: "Require an API key (any scope) for GET /metrics",
    arg: "bool",
  },
  auth: {
    schema: z.enum(["auto", "on", "off"]),
    default: "auto",
    help: "API keys: on (required), off (nobody is asked for one), auto (on when keys are configured)",
    arg: "mode",
  },
  apiKeys: {
    schema: z.string().trim().min(1).optional(),
    default: undefined,
    help: "API keys, as 'name=ci,scopes=score+fit,prefix=acme:,key=SECRET' entries separated by ';' (prefer the variable to the flag)",
    arg: "keys",
  },
  apiKeysFile: {
    schema: z.string().min(1).optional(),
    default: undefined,
    help: 'JSON file of API key hashes: {"keys":[{"name","scopes":[...],"prefix"?,"sha256"}]}',
    arg: "file",
  },
  allowUnauthenticatedPublic: {
    schema: bool,
    default: false,
    help: "Allow listening on a non-loopback address with authentication off",
    arg: "bool",
  },
  shutdownTimeoutMs: {
    schema: int(0),
    default: 30000,
    help: "Longest drain of queued and in-flight work on SIGTERM before exiting 1 (143 when a reader thread is still stuck in a read)",
    arg: "ms",
  },
  logLevel: {
    schema: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]),
    default: "info",
    help: "Log level",
    arg: "level",
  },
} as const;

export type SettingName = keyof typeof SETTINGS;
export type Config = { [K in SettingName]: z.output<(typeof SETTINGS)[K]["schema"]> };

export function envName(name: string): string {
  return `SHARELORA_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

export function flagName(name: string): string {
  return `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

export class ConfigError extends Error {
  readonly code = "INVALID_CONFIG";
}

/** Precedence: explicit options (CLI flags, tests) over SHARELORA_* variables over defaults. */
export function loadConfig(
  options: Partial<Record<SettingName, unknown>> = {},
  env: NodeJS.ProcessEnv = process.env,
): Config {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, setting] of Object.entries(SETTINGS)) {
    const fromEnv = env[envName(name)];
    const raw =
      options[name as SettingName] ??
      (fromEnv === undefined || fromEnv === "" ? undefined : fromEnv);
    if (raw === undefined) {
      out[name] = setting.default;
      continue;
    }
    const parsed = (setting.schema as z.ZodType).safeParse(raw);
    if (parsed.success) out[name] = parsed.data;
    else {
      const source = options[name as SettingName] !== undefined ? flagName(name) : envName(name);
      problems.push(
        `${source}: ${parsed.error.issues.map((i) => i.message).join("; ")} (got ${JSON.stringify(raw)})`,
      );
    }
  }
  if (problems.length === 0 && out["metricsPort"] !== 0 && out["metricsPort"] === out["port"]) {
    problems.push(
      `${flagName("metricsPort")}: must differ from ${flagName("port")} (${String(out["port"])}); 0 serves /metrics on the API port`,
    );
  }
  if (problems.length > 0)
    throw new ConfigError(`Invalid configuration:\n  ${problems.join("\n  ")}`);
  return out as Config;
}

/** How a flag's value is written in help: boolean flags may be given bare. */
export function argText(arg: string): string {
  return arg === "bool" ? "[bool]" : `<${arg}>`;
}

const defaultText = (value: unknown): string =>
  value === undefined
    ? "—"
    : value === DEFAULT_MODEL_DIR
      ? "models/default"
      : `\`${String(value)}\``;

/** The settings as a markdown table (flag, variable, default, meaning), for the README. */
export function renderSettingsTable(): string {
  const rows = Object.entries(SETTINGS).map(([name, setting]) => {
    const cells = [
      `\`${flagName(name)} ${argText(setting.arg)}\``,
      `\`${envName(name)}\``,
      defaultText(setting.default),
      setting.help,
    ].map((cell) => cell.replaceAll("|", "\\|"));
    return `| ${cells.join(" | ")} |`;
  });
  return [
    "| Flag | Environment variable | Default | Meaning |",
    "| --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}

/** The bounds every request schema applies to its texts and lists. */
export function requestLimits(config: Pick<Config, "maxItems" | "maxTextChars">) {
  return { maxItems: config.maxItems, maxTextChars: config.maxTextChars };
}
