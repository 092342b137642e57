#!/usr/bin/env bash
# The image's steps without a Docker engine: build-app.sh into a temp dir, install-runtime.sh there,
# serve from the result with the image's settings and wait for its HEALTHCHECK to pass, then score.
# Reuses this checkout's dist/ and model (npm ci builds them); SHARELORA_SKIP_BUILD=0 rebuilds.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

SHARELORA_SKIP_BUILD="${SHARELORA_SKIP_BUILD:-1}" bash "$root/docker/build-app.sh" "$work/app"
ONNXRUNTIME_NODE_INSTALL=skip bash "$work/app/docker/install-runtime.sh" "$work/app"

port="$(node -e 'const s = require("node:net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')"
export SHARELORA_HOST=0.0.0.0 SHARELORA_PORT="$port" SHARELORA_ADAPTERS="$work/adapters"
export SHARELORA_DEVICE=cpu SHARELORA_LOG_LEVEL=warn
# The image listens on 0.0.0.0, where the server refuses to run without API keys.
export SHARELORA_API_KEYS="name=smoke,scopes=score,key=smoke-test-key-0123456789"
(cd "$work" && exec node app/dist/cli.js serve) &
pid=$!

healthy=0
for _ in $(seq 1 120); do
  if node "$work/app/docker/healthcheck.mjs" 2>/dev/null; then healthy=1; break; fi
  if ! kill -0 "$pid" 2>/dev/null; then echo "smoke-test: the server exited" >&2; exit 1; fi
  sleep 0.5
done
if [ "$healthy" != "1" ]; then echo "smoke-test: /ready never answered 200" >&2; exit 1; fi

# shellcheck disable=SC2016 # JavaScript template literals, not shell expansions
node --input-type=module -e '
  const response = await fetch(`http://127.0.0.1:${process.env.SHARELORA_PORT}/v1/score`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer smoke-test-key-0123456789" },
    body: JSON.stringify({ items: [{ prompt: "2+2?", response: "4" }] }),
  });
  const body = await response.json();
  if (response.status !== 200 || body.rewards.length !== 1 || !Number.isFinite(body.rewards[0])) {
    console.error("smoke-test: unexpected /v1/score answer", response.status, body);
    process.exit(1);
  }
  console.log(`smoke-test: healthy, and /v1/score answered ${body.rewards[0]}`);
'
