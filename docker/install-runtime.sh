#!/usr/bin/env bash
# Image runtime stage: production dependencies of the tree build-app.sh laid out, and, for CUDA
# images, onnxruntime-node's CUDA execution provider (not on npm: its install script downloads it).
#   ONNXRUNTIME_NODE_INSTALL=auto (default): cuda12 when the CUDA runtime is in the image, else skip
#   ONNXRUNTIME_NODE_INSTALL=cuda12 | skip: force one or the other
set -euo pipefail
cd "${1:-.}"

# --ignore-scripts: `prepare` would rebuild with dev tools the runtime does not have, and our
# .npmrc skips onnxruntime-node's downloads anyway; the CUDA EP is installed explicitly below.
npm ci --omit=dev --ignore-scripts --no-audit --no-fund

mode="${ONNXRUNTIME_NODE_INSTALL:-auto}"
if [ "$mode" = "auto" ]; then
  # Not grep -q: under pipefail its early exit could fail ldconfig with SIGPIPE.
  if [ -d /usr/local/cuda ] || ldconfig -p 2>/dev/null | grep 'libcudart\.so\.12' >/dev/null; then
    mode="cuda12"
  else
    mode="skip"
  fi
fi
ort="node_modules/onnxruntime-node"
if [ "$mode" != "skip" ]; then
  # The variable wins over .npmrc's onnxruntime-node-install=skip.
  ONNXRUNTIME_NODE_INSTALL="$mode" node "$ort/script/install.js"
  ls "$ort"/bin/napi-v6/linux/*/libonnxruntime_providers_cuda.so >/dev/null
fi

# onnxruntime-node ships the binaries of every platform; an image needs its own only.
keep="$(node -p 'process.platform + "/" + process.arch')"
for dir in "$ort"/bin/napi-v6/*/*; do
  case "$dir" in
    */"$keep") ;;
    *) rm -rf "$dir" ;;
  esac
done

# shellcheck disable=SC2016 # JavaScript template literals, not shell expansions
node --input-type=module -e '
  const ort = await import("onnxruntime-node");
  console.log(`install-runtime: onnxruntime-node loads; backends: ${ort.listSupportedBackends().map((b) => b.name).join(", ")}`);
'
