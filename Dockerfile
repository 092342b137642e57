# syntax=docker/dockerfile:1
#
# CPU image (default):
#   docker build -t sharelora .
# CUDA image: a CUDA 12 + cuDNN 9 runtime base; onnxruntime-node's CUDA execution provider is
# downloaded into it at build time (docker/install-runtime.sh):
#   docker build -t sharelora:cuda --build-arg BASE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu22.04 .
#   docker run --gpus all -p 8080:8080 sharelora:cuda
# Another model: -v /models/x:/models/x:ro -e SHARELORA_MODEL=/models/x   (docs/deployment.md)

ARG BASE=node:20-bookworm-slim
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS node

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json .npmrc ./
# Sources are not there yet, so `prepare` (the build) is skipped here and run below.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY models ./models
COPY docker ./docker
# Compiles to dist/ and generates models/default/backbone.onnx, then lays out /app.
RUN bash docker/build-app.sh /app

FROM ${BASE} AS runtime
# Node from the official image: its binaries need glibc ≥ 2.28, which Debian 12 and Ubuntu 22.04 have.
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/npm
RUN ln -sf ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
  && groupadd --system --gid 10001 sharelora \
  && useradd --system --uid 10001 --gid sharelora --home-dir /app --shell /usr/sbin/nologin sharelora
WORKDIR /app
COPY --from=build /app ./
# auto: the CUDA execution provider when the base image has the CUDA runtime; cuda12 or skip force it.
ARG ONNXRUNTIME_NODE_INSTALL=auto
RUN ONNXRUNTIME_NODE_INSTALL="${ONNXRUNTIME_NODE_INSTALL}" bash docker/install-runtime.sh /app \
  && rm -rf /root/.npm /tmp/* \
  && mkdir -p /data/adapters \
  && chown sharelora:sharelora /data/adapters

ENV NODE_ENV=production \
  SHARELORA_HOST=0.0.0.0 \
  SHARELORA_PORT=8080 \
  SHARELORA_MODEL=/app/models/default \
  SHARELORA_ADAPTERS=/data/adapters
USER sharelora
EXPOSE 8080
VOLUME ["/data/adapters"]
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "/app/docker/healthcheck.mjs"]
ENTRYPOINT ["node", "/app/dist/cli.js"]
CMD ["serve"]
