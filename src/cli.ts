#!/usr/bin/env node
import { Command, Option } from "commander";
import { registerEval } from "./commands/eval.js";
import { registerEvalActive } from "./commands/eval-active.js";
import { registerFeatures } from "./commands/features.js";
import { registerFit } from "./commands/fit.js";
import { registerImportModel } from "./commands/import-model.js";
import { registerSynth } from "./commands/synth.js";
import {
  argText,
  ConfigError,
  envName,
  flagName,
  loadConfig,
  SETTINGS,
  type SettingName,
} from "./config.js";
import { checkOpenApiFile, OPENAPI_FILE, writeOpenApiFile } from "./openapi.js";
import { handleSignals, startServer, VERSION } from "./server.js";

function addSettings(command: Command, names: readonly SettingName[]): Command {
  for (const name of names) {
    const setting = SETTINGS[name];
    const defaultText = setting.default === undefined ? "" : ` (default: ${setting.default})`;
    command.addOption(
      new Option(`${flagName(name)} ${argText(setting.arg)}`, `${setting.help}${defaultText}`).env(
        envName(name),
      ),
    );
  }
  return command;
}

function settingsFrom(options: Record<string, unknown>): Partial<Record<SettingName, unknown>> {
  const out: Partial<Record<SettingName, unknown>> = {};
  for (const name of Object.keys(SETTINGS) as SettingName[]) {
    if (options[name] !== undefined) out[name] = options[name];
  }
  return out;
}

const program = new Command("sharelora")
  .description("Personalized reward-model inference (P-ShareLoRA)")
  .version(VERSION);

addSettings(
  program.command("serve").description("Serve the HTTP API"),
  Object.keys(SETTINGS) as SettingName[],
).action(async (options: Record<string, unknown>) => {
  const config = loadConfig(settingsFrom(options), {});
  const starting = startServer(config);
  handleSignals(starting, config.shutdownTimeoutMs);
  await starting;
});

program
  .command("openapi")
  .description("Write or check the OpenAPI document (no model is loaded, nothing listens)")
  .option("--write", "write the document")
  .option("--check", "exit 1 when the committed document differs from the routes")
  .option("--file <path>", "the document", OPENAPI_FILE)
  .action(async (options: { write?: boolean; check?: boolean; file: string }) => {
    if (options.write === options.check)
      throw new ConfigError("Give exactly one of --write or --check");
    if (options.write) {
      await writeOpenApiFile(VERSION, options.file);
      process.stdout.write(`wrote ${options.file}\n`);
      return;
    }
    const differences = await checkOpenApiFile(VERSION, options.file);
    if (differences.length === 0) {
      process.stdout.write(`${options.file} is up to date\n`);
      return;
    }
    process.stderr.write(
      `${options.file} differs from the routes (run npm run openapi:write):\n  ${differences.join("\n  ")}\n`,
    );
    process.exitCode = 1;
  });

registerSynth(program);
registerFeatures(program);
registerFit(program);
registerEval(program);
registerImportModel(program);
registerEvalActive(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`sharelora: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
