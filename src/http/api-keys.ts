import { createHash, timingSafeEqual } from "node:crypto";
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { ConfigError } from "../config.js";
import { USER_ID_PATTERN } from "../domain/user-id.js";

export const SCOPES = ["score", "fit", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

export interface ApiKey {
  readonly name: string;
  readonly scopes: ReadonlySet<Scope>;
  /** Users this key may act for: ids starting with the prefix; undefined: every user. */
  readonly prefix: string | undefined;
  /** sha256 of the key itself; the key is never kept. */
  readonly sha256: Buffer;
}

const NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
const HASH_PATTERN = /^[0-9a-f]{64}$/;
/** Keys go in ';'/','-separated lists and Authorization headers: no separators, no spaces. */
const KEY_PATTERN = /^[A-Za-z0-9._~+/=-]{16,512}$/;

/** Lowercase hex sha256 of a key, as the keys file stores it (`printf %s KEY | sha256sum`). */
export function hashApiKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

const prefixSchema = z
  .string()
  .min(1)
  .max(128)
  .refine((p) => USER_ID_PATTERN.test(p), "expected a user-id prefix of [A-Za-z0-9._:@-]");

const fileSchema = z
  .object({
    keys: z.array(
      z
        .object({
          name: z.string().regex(NAME_PATTERN, "expected 1-64 characters of [A-Za-z0-9._-]"),
          scopes: z.array(z.enum(SCOPES)).min(1),
          prefix: prefixSchema.optional(),
          sha256: z
            .string()
            .regex(HASH_PATTERN, "expected the key's sha256 as 64 lowercase hex digits"),
        })
        .strict(),
    ),
  })
  .strict();

function makeKey(name: string, scopes: readonly Scope[], prefix: string | undefined, hex: string) {
  return { name, scopes: new Set(scopes), prefix, sha256: Buffer.from(hex, "hex") };
}

/**
 * `name=ci,scopes=score+fit,prefix=acme:,key=SECRET` entries separated by ';' or newlines.
 * `sha256=HEX` may stand for `key=SECRET`. Errors name the entry and field, never the key.
 */
export function parseApiKeyList(text: string, source: string): ApiKey[] {
  const keys: ApiKey[] = [];
  const entries = text
    .split(/[;\n]/)
    .map((e) => e.trim())
    .filter((e) => e.length > 0);
  entries.forEach((entry, index) => {
    const where = `${source}, entry ${index + 1}`;
    const fields = new Map<string, string>();
    for (const part of entry.split(",")) {
      const eq = part.indexOf("=");
      const field = (eq < 0 ? part : part.slice(0, eq)).trim();
      if (eq < 0 || !["name", "scopes", "prefix", "key", "sha256"].includes(field)) {
        throw new ConfigError(
          `${where}: expected name=…,scopes=…[,prefix=…],key=… (or sha256=…), got a field "${field.slice(0, 16)}"`,
        );
      }
      if (fields.has(field)) throw new ConfigError(`${where}: ${field} is given twice`);
      fields.set(field, part.slice(eq + 1).trim());
    }
    const name = fields.get("name") ?? "";
    if (!NAME_PATTERN.test(name)) {
      throw new ConfigError(`${where}: name must be 1-64 characters of [A-Za-z0-9._-]`);
    }
    const scopes = (fields.get("scopes") ?? "").split("+").filter((s) => s.length > 0);
    if (scopes.length === 0 || !scopes.every((s) => (SCOPES as readonly string[]).includes(s))) {
      throw new ConfigError(
        `${where} (${name}): scopes must be one or more of ${SCOPES.join(", ")} joined by '+'`,
      );
    }
    const prefix = fields.get("prefix");
    if (prefix !== undefined && !prefixSchema.safeParse(prefix).success) {
      throw new ConfigError(
        `${where} (${name}): prefix must be 1-128 characters of [A-Za-z0-9._:@-]`,
      );
    }
    const key = fields.get("key");
    const hash = fields.get("sha256");
    if ((key === undefined) === (hash === undefined)) {
      throw new ConfigError(`${where} (${name}): give exactly one of key=… or sha256=…`);
    }
    if (key !== undefined && !KEY_PATTERN.test(key)) {
      throw new ConfigError(
        `${where} (${name}): a key must be 16-512 characters of [A-Za-z0-9._~+/=-]`,
      );
    }
    if (hash !== undefined && !HASH_PATTERN.test(hash)) {
      throw new ConfigError(`${where} (${name}): sha256 must be 64 lowercase hex digits`);
    }
    keys.push(makeKey(name, scopes as Scope[], prefix, hash ?? hashApiKey(key!)));
  });
  return keys;
}

/** `{"keys":[{"name","scopes":[...],"prefix"?,"sha256"}]}`: the file holds hashes, never keys. */
export function parseApiKeyFile(json: string, source: string): ApiKey[] {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch (error) {
    throw new ConfigError(`${source}: not valid JSON (${(error as Error).message})`);
  }
  const parsed = fileSchema.safeParse(data);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new ConfigError(`${source}: ${issues.join("; ")}`);
  }
  return parsed.data.keys.map((k) => makeKey(k.name, k.scopes, k.prefix, k.sha256));
}

/** The keys of SHARELORA_API_KEYS / --api-keys and of --api-keys-file, together. */
export async function loadApiKeys(options: {
  apiKeys?: string | undefined;
  apiKeysFile?: string | undefined;
}): Promise<ApiKey[]> {
  const keys: ApiKey[] = [];
  if (options.apiKeys !== undefined) keys.push(...parseApiKeyList(options.apiKeys, "api keys"));
  if (options.apiKeysFile !== undefined) {
    let text: string;
    try {
      text = await readFile(options.apiKeysFile, "utf8");
    } catch (error) {
      throw new ConfigError(
        `--api-keys-file ${options.apiKeysFile}: ${(error as NodeJS.ErrnoException).code ?? "unreadable"}`,
      );
    }
    keys.push(...parseApiKeyFile(text, options.apiKeysFile));
  }
  const names = new Set<string>();
  const hashes = new Set<string>();
  for (const key of keys) {
    if (names.has(key.name)) throw new ConfigError(`API key name ${key.name} is used twice`);
    const hex = key.sha256.toString("hex");
    if (hashes.has(hex)) throw new ConfigError(`API key ${key.name} repeats another key`);
    names.add(key.name);
    hashes.add(hex);
  }
  return keys;
}

/** Finds the key a bearer token stands for, comparing hashes in constant time. */
export class ApiKeyring {
  readonly #keys: readonly ApiKey[];

  constructor(keys: readonly ApiKey[]) {
    this.#keys = keys;
  }

  get size(): number {
    return this.#keys.length;
  }

  authenticate(token: string): ApiKey | undefined {
    const digest = createHash("sha256").update(token, "utf8").digest();
    let found: ApiKey | undefined;
    // Every stored hash is compared, so the time taken does not tell which one matched.
    for (const key of this.#keys) {
      if (timingSafeEqual(digest, key.sha256) && found === undefined) found = key;
    }
    return found;
  }
}
