import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const PACKAGE_ROOT = fileURLToPath(new URL("../", import.meta.url));
let built = false;

/**
 * `node` arguments that start the server as `npm start` does, from dist/ compiled afresh once per
 * process: running the TypeScript sources through a loader would measure the loader too.
 */
export function serveArgs(): string[] {
  if (!built) {
    execFileSync(
      process.execPath,
      [join(PACKAGE_ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"],
      {
        cwd: PACKAGE_ROOT,
        stdio: ["ignore", "ignore", "inherit"],
      },
    );
    built = true;
  }
  return [join(PACKAGE_ROOT, "dist/cli.js"), "serve"];
}
