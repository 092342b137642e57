#!/usr/bin/env node
// The image's HEALTHCHECK: exit 0 when GET /ready answers 200 within the timeout, else 1.
// Slim images have no curl; Node's fetch is enough. Reads the same SHARELORA_* variables as the server.

const WILDCARDS = new Set(["", "0.0.0.0", "::", "[::]"]);

function readyUrl(env) {
  if (env.SHARELORA_HEALTHCHECK_URL) return env.SHARELORA_HEALTHCHECK_URL;
  const host = env.SHARELORA_HOST ?? "";
  const reachable = WILDCARDS.has(host) ? "127.0.0.1" : host;
  const shown = reachable.includes(":") ? `[${reachable}]` : reachable;
  return `http://${shown}:${env.SHARELORA_PORT || "8080"}/ready`;
}

const url = readyUrl(process.env);
const timeoutMs = Number(process.env.SHARELORA_HEALTHCHECK_TIMEOUT_MS || 3000);
try {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (response.ok) process.exit(0);
  process.stderr.write(`${url}: HTTP ${response.status}\n`);
} catch (error) {
  process.stderr.write(`${url}: ${error instanceof Error ? error.message : String(error)}\n`);
}
process.exit(1);
