import { stat } from "node:fs/promises";
import { type Config, ConfigError, flagName, type SettingName } from "./config.js";
import type { Backend } from "./inference/backend.js";
import type { Tokenizer } from "./inference/tokenizer.js";

/**
 * Runs one start-up step whose failure is the configuration's fault, so that it fails as a
 * ConfigError naming the setting (the CLI exits 2) instead of as an internal error.
 */
export async function asSetting<T>(
  setting: SettingName,
  value: unknown,
  step: () => Promise<T> | T,
): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`${flagName(setting)} ${String(value)}: ${message}`, { cause: error });
  }
}

/** `--adapters` names a directory (made if missing) or a Redis URL; a file there is an error. */
export async function checkAdapterDirectory(spec: string): Promise<void> {
  if (/^rediss?:\/\//i.test(spec)) return;
  const found = await stat(spec).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw error;
  });
  if (found !== undefined && !found.isDirectory()) {
    throw new ConfigError(`${flagName("adapters")} ${spec}: exists and is not a directory`);
  }
}

/**
 * Starts the backend and runs `check` on it; a failure names --device when the execution provider
 * is missing, else --model (a backbone that cannot run), and leaves nothing running.
 */
export async function startBackend<B extends Backend>(
  config: Pick<Config, "device" | "model">,
  start: () => Promise<B>,
  check: (backend: B) => Promise<void>,
): Promise<B> {
  let backend: B | undefined;
  try {
    backend = await start();
    await check(backend);
    return backend;
  } catch (error) {
    await backend?.dispose();
    const code = error as { code?: unknown; workerCode?: unknown };
    const provider =
      code.code === "PROVIDER_UNAVAILABLE" || code.workerCode === "PROVIDER_UNAVAILABLE";
    const message = error instanceof Error ? error.message : String(error);
    throw provider
      ? new ConfigError(`${flagName("device")} ${config.device}: ${message}`, { cause: error })
      : new ConfigError(
          `${flagName("model")} ${config.model}: the backbone cannot run: ${message}`,
          {
            cause: error,
          },
        );
  }
}

/**
 * One small batch through the backbone and the head before the server says it is ready: a model
 * whose outputs have another width, type or shape than the manifest says fails here, not on
 * every request.
 */
export async function warmUp(
  backend: Backend,
  tokenizer: Tokenizer,
  maxLength: number,
  shape: { k: number; m: number },
): Promise<void> {
  const encoded = tokenizer.encodePair("Hello", "Hello! How can I help?", maxLength);
  const [features] = await backend.embed([{ ids: encoded.ids, typeIds: encoded.typeIds }]);
  const width = shape.k * shape.m;
  if (features === undefined || features.proj.length !== width) {
    throw new TypeError(
      `one batch through the backbone and the head gave ${features?.proj.length ?? 0} projections, expected k·m = ${width}`,
    );
  }
  if (!Number.isFinite(features.base) || !features.proj.every(Number.isFinite)) {
    throw new TypeError("one batch through the backbone and the head gave non-finite rewards");
  }
}
