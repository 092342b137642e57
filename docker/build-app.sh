#!/usr/bin/env bash
# Image build stage: compile the TypeScript, generate the default model's backbone.onnx, and lay out
# in OUT exactly what the runtime stage needs. Run from the source tree, after `npm ci`.
#   docker/build-app.sh OUT            (SHARELORA_SKIP_BUILD=1: reuse an up-to-date dist/ and model)
set -euo pipefail
out="${1:?usage: docker/build-app.sh OUT}"
cd "$(dirname "$0")/.."

if [ "${SHARELORA_SKIP_BUILD:-}" != "1" ]; then
  npm run build
fi
for required in dist/cli.js models/default/manifest.json models/default/backbone.onnx; do
  if [ ! -f "$required" ]; then
    echo "build-app: $required is missing (npm run build generates it)" >&2
    exit 1
  fi
done

mkdir -p "$out/models" "$out/docker"
cp package.json package-lock.json .npmrc "$out/"
cp -R dist "$out/dist"
cp -R models/default "$out/models/default"
cp docker/healthcheck.mjs docker/install-runtime.sh "$out/docker/"
echo "build-app: runtime tree in $out"
