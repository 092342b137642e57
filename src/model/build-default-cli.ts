import { createHash } from "node:crypto";
import { existsSync, realpathSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { buildDefaultBackbone, type DefaultBackboneOptions } from "./default-backbone.js";

export const DEFAULT_BACKBONE_OPTIONS = Object.freeze({
  seed: 20_250_325,
  d: 256,
  layers: 4,
  heads: 4,
  maxLength: 512,
  views: "prompt_response",
  byteCounts: false,
  surface: true,
} as const satisfies Required<DefaultBackboneOptions>);

export const BACKBONE_FILE_NAME = "backbone.onnx";

export interface BuiltModelDir {
  path: string;
  sha256: string;
  written: boolean;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export function findPackageRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) throw new Error(`No package.json above ${from}`);
  }
}

export function defaultModelDir(): string {
  return join(findPackageRoot(), "models", "default");
}

async function fileSha256(path: string): Promise<string | undefined> {
  try {
    return sha256Hex(await readFile(path));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/** Writes backbone.onnx into dir unless a byte-identical one is already there. */
export async function buildDefaultModelDir(
  dir: string = defaultModelDir(),
): Promise<BuiltModelDir> {
  const bytes = buildDefaultBackbone(DEFAULT_BACKBONE_OPTIONS);
  const sha256 = sha256Hex(bytes);
  const path = join(dir, BACKBONE_FILE_NAME);
  if ((await fileSha256(path)) === sha256) return { path, sha256, written: false };
  await mkdir(dir, { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, bytes);
  await rename(temporary, path);
  return { path, sha256, written: true };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: "string" } } });
  const result = await buildDefaultModelDir(
    values.out === undefined ? undefined : resolve(values.out),
  );
  const action = result.written ? "wrote" : "up to date:";
  process.stdout.write(`${action} ${result.path}\nsha256 ${result.sha256}\n`);
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
