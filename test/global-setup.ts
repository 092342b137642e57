import { existsSync } from "node:fs";
import { join } from "node:path";
import { buildDefaultModelDir } from "../src/model/build-default-cli.js";

/** `npm ci` builds the default backbone; a checkout that skipped it still gets one here. */
export default async function setup(): Promise<void> {
  const dir = join(import.meta.dirname, "..", "models", "default");
  if (!existsSync(join(dir, "backbone.onnx"))) await buildDefaultModelDir(dir);
}
