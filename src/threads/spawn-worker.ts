import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";

/**
 * A worker thread running `compiled` (a .js module URL). Sources run through tsx in development
 * and tests: there the .ts module beside it is loaded through tsx's loader instead.
 */
export function spawnModuleWorker(compiled: URL, workerData: unknown): Worker {
  if (!compiled.href.endsWith(".js")) {
    throw new TypeError(`expected the URL of a .js module, got ${compiled.href}`);
  }
  if (!import.meta.url.endsWith(".ts")) return new Worker(compiled, { workerData });
  const tsxRoot = dirname(createRequire(import.meta.url).resolve("tsx/package.json"));
  const tsx = pathToFileURL(join(tsxRoot, "dist/esm/api/index.mjs")).href;
  const entry = compiled.href.replace(/\.js$/, ".ts");
  const bootstrap = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { eval: true, workerData });
}
