import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { buildApp } from "./app.js";
import { loadConfig, PACKAGE_ROOT } from "./config.js";
import { AppState } from "./http/app-state.js";

export const OPENAPI_FILE = join(PACKAGE_ROOT, "openapi", "openapi.json");

type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * The OpenAPI document of the routes as they are declared, with default settings (variables are
 * ignored, so limits in the document do not depend on who runs it); no model is loaded and
 * nothing listens.
 */
export async function generateOpenApiDocument(version: string): Promise<JsonValue> {
  const app = await buildApp({ config: loadConfig({}, {}), state: new AppState(version) });
  try {
    await app.ready();
    // A JSON round trip drops undefined fields, as the file on disk does.
    return JSON.parse(JSON.stringify(app.swagger())) as JsonValue;
  } finally {
    await app.close();
  }
}

export function renderOpenApi(document: JsonValue): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}

/** JSON pointers where two documents differ, compared by value (object key order is ignored). */
export function diffOpenApi(expected: JsonValue, actual: JsonValue, limit = 20): string[] {
  const out: string[] = [];
  const walk = (a: JsonValue | undefined, b: JsonValue | undefined, path: string): void => {
    if (out.length >= limit) return;
    const objectLike = (v: unknown) => typeof v === "object" && v !== null;
    if (!objectLike(a) || !objectLike(b) || Array.isArray(a) !== Array.isArray(b)) {
      if (a !== b) out.push(path || "/");
      return;
    }
    if (Array.isArray(a) && Array.isArray(b)) {
      if (a.length !== b.length) {
        out.push(`${path}/ (length ${a.length} → ${b.length})`);
        return;
      }
      for (const [i, item] of a.entries()) walk(item, b[i], `${path}/${i}`);
      return;
    }
    const left = a as Record<string, JsonValue>;
    const right = b as Record<string, JsonValue>;
    const keys = [...new Set([...Object.keys(left), ...Object.keys(right)])].sort();
    for (const key of keys) {
      walk(left[key], right[key], `${path}/${key.replaceAll("~", "~0").replaceAll("/", "~1")}`);
    }
  };
  walk(expected, actual, "");
  return out;
}

export async function writeOpenApiFile(version: string, file = OPENAPI_FILE): Promise<void> {
  await writeFile(file, renderOpenApi(await generateOpenApiDocument(version)));
}

/** Differences between the committed document and the routes; empty when they agree. */
export async function checkOpenApiFile(version: string, file = OPENAPI_FILE): Promise<string[]> {
  let committed: JsonValue;
  try {
    committed = JSON.parse(await readFile(file, "utf8")) as JsonValue;
  } catch (error) {
    return [`${file}: ${(error as Error).message}`];
  }
  return diffOpenApi(committed, await generateOpenApiDocument(version));
}
