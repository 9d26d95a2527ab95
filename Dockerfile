# syntax=docker/dockerfile:1
# Conveyor runs TypeScript through tsx (a runtime dependency): there is no build output, only
# production node_modules and the sources.
# The base is a build argument only so the image can be built where the official one cannot be
# pulled (a local Debian bookworm rootfs with Node, a `node` user and npm stands in; see README).
ARG NODE_IMAGE=node:22-bookworm-slim

# --- deps: production dependencies only, from the lock file
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: esbuild and msgpackr ship prebuilt binaries; swagger-ui-dist's analytics hook is skipped.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# --- runtime
FROM ${NODE_IMAGE} AS runtime
# tini as PID 1: forwards SIGTERM to node (which drains: HTTP, sockets, jobs, pools) and reaps zombies.
RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0 \
    LOG_FORMAT=json
WORKDIR /app
# Owned by root, read by the unprivileged user: the process cannot rewrite its own code.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY src ./src
COPY queues ./queues
COPY jobs ./jobs
COPY config ./config
COPY public ./public
USER node
EXPOSE 3000
# /readyz: Redis and MySQL answer. A process without the api or ws role serves no HTTP: give
# such containers (ROLE=worker, scheduler) their own check or none (see README, Container).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--max-semi-space-size=64", "--import", "tsx", "src/main.ts", "start"]
