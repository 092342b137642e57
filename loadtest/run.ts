import { parseArgs } from "node:util";
import { DEFAULT_RESULTS_DIR, type RunOptions, runScenario, UsageError } from "./runner.js";
import { SCENARIOS } from "./scenarios/index.js";
import { killAllServers } from "./server-process.js";

const USAGE = `Usage: npm run loadtest [-- <scenario>] [options]

Scenarios (default: score):
${[...SCENARIOS.values()].map((s) => `  ${s.name.padEnd(12)} ${s.defaultDurationS} s by default`).join("\n")}

Options:
  --url URL            load an already running server (any host) instead of starting one
                       (API key for it: the LOADTEST_API_KEY environment variable)
  --duration S         seconds of load (per connection level for sweep)
  --connections N      connections (not for sweep)
  --max-requests N     request-count bound (default: duration × 5000)
  --server-flag F=V    extra flag for the server it starts, e.g. --server-flag intra-op-threads=1
                       (repeatable)
  --seed N             seed of the generated texts and adapters
  --out DIR            report directory (default: ${DEFAULT_RESULTS_DIR})
  --no-copy            do not copy the sweep's plot to docs/
  --help               this text

Reports go to <out>/<timestamp>-<scenario>.{json,md}; the exit status is 1 when a threshold fails.`;

function number(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value)) {
    throw new UsageError(`--${name}: expected a number, got ${text}`);
  }
  return value;
}

function serverFlag(text: string): [string, string] {
  const match = /^(?:--)?([a-z][a-z0-9-]*)=(.*)$/.exec(text);
  if (!match) throw new UsageError(`--server-flag: expected name=value, got ${text}`);
  return [match[1]!, match[2]!];
}

function parse(argv: string[]): RunOptions | undefined {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: "string" },
      duration: { type: "string" },
      connections: { type: "string" },
      "max-requests": { type: "string" },
      seed: { type: "string" },
      "server-flag": { type: "string", multiple: true },
      out: { type: "string" },
      "no-copy": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return undefined;
  if (positionals.length > 1) {
    throw new UsageError(`expected at most one scenario, got ${positionals.join(" ")}`);
  }
  const options: RunOptions = {
    scenario: positionals[0] ?? "score",
    log: (line) =>
      process.stderr.write(`[loadtest +${(performance.now() / 1000).toFixed(1)}s] ${line}\n`),
  };
  const durationS = number("duration", values.duration);
  const connections = number("connections", values.connections);
  const maxRequests = number("max-requests", values["max-requests"]);
  const seed = number("seed", values.seed);
  if (seed !== undefined && !(Number.isSafeInteger(seed) && seed >= 0 && seed < 2 ** 32)) {
    throw new UsageError(`--seed: expected an integer in [0, 2^32), got ${seed}`);
  }
  if (values.url !== undefined) options.url = values.url;
  const apiKey = process.env["LOADTEST_API_KEY"];
  if (apiKey) options.apiKey = apiKey;
  if (durationS !== undefined) options.durationS = durationS;
  if (connections !== undefined) options.connections = connections;
  if (maxRequests !== undefined) options.maxRequests = maxRequests;
  if (seed !== undefined) options.seed = seed;
  if (values.out !== undefined) options.outDir = values.out;
  const flags = values["server-flag"] ?? [];
  if (flags.length > 0) options.serverFlags = Object.fromEntries(flags.map(serverFlag));
  if (values["no-copy"]) options.copyArtifacts = false;
  return options;
}

async function main(): Promise<number> {
  let options: RunOptions | undefined;
  try {
    options = parse(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (!options) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const outcome = await runScenario(options);
  process.stdout.write(`${outcome.markdown}\n`);
  process.stdout.write(
    `Written: ${[outcome.files.json, outcome.files.md, ...outcome.files.artifacts].join(", ")}\n`,
  );
  return outcome.passed ? 0 : 1;
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    killAllServers();
    process.exit(130);
  });
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const usage = error instanceof UsageError;
    process.stderr.write(`loadtest: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = usage ? 2 : 1;
  },
);
