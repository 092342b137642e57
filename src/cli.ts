#!/usr/bin/env node
import { Command, Option } from "commander";
import {
  ConfigError,
  envName,
  flagName,
  loadConfig,
  SETTINGS,
  type SettingName,
} from "./config.js";
import { handleSignals, startServer, VERSION } from "./server.js";

function addSettings(command: Command, names: readonly SettingName[]): Command {
  for (const name of names) {
    const setting = SETTINGS[name];
    const defaultText = setting.default === undefined ? "" : ` (default: ${setting.default})`;
    command.addOption(
      new Option(`${flagName(name)} <${setting.arg}>`, `${setting.help}${defaultText}`).env(
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
  const server = await startServer(config);
  handleSignals(server);
});

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`sharelora: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
