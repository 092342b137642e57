import { Command } from "commander";
import { PHASES, resolvePhases } from "./options.js";
import { runSuite } from "./suite.js";
import { formatTable } from "./table.js";

const program = new Command("bench")
  .description("sharelora benchmarks: throughput ratios measured side by side, memory, fit latency")
  .option("--json", "print one JSON object on stdout (progress goes to stderr)", false)
  .option("--quick", "shorter runs; skips rss100k unless --only names it", false)
  .option("--only <names>", `comma-separated phases: ${PHASES.join(", ")}`)
  .option("--rss-passes <n>", "rss100k: score each of the 100,000 users n times", "1");

program.parse(process.argv);
const opts = program.opts<{ json: boolean; quick: boolean; only?: string; rssPasses: string }>();
const rssPasses = Number(opts.rssPasses);
if (!Number.isSafeInteger(rssPasses) || rssPasses < 1) {
  process.stderr.write(`--rss-passes: expected a positive integer, got ${opts.rssPasses}\n`);
  process.exit(2);
}

const started = performance.now();
const log = (message: string) => {
  process.stderr.write(
    `[bench ${((performance.now() - started) / 1000).toFixed(1)}s] ${message}\n`,
  );
};

try {
  const phases = resolvePhases(opts.only, opts.quick);
  const result = await runSuite({ quick: opts.quick, json: opts.json, phases, rssPasses }, log);
  process.stdout.write(opts.json ? `${JSON.stringify(result)}\n` : formatTable(result));
} catch (error) {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
}
