# syntax=docker/dockerfile:1
# Production image: `docker compose up --build` (see docker-compose.yml, docs/operations.md). CI
# has no Docker engine and does not build it; scripts/check-compose.js (run by `npm test`) checks
# that .dockerignore keeps out secrets and local state but keeps in every source copied below.

# --- build: all dependencies, compile, then drop the dev ones -----------------------------------
FROM node:20-slim AS build
WORKDIR /app
ENV NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false NPM_CONFIG_UPDATE_NOTIFIER=false
COPY package.json package-lock.json ./
RUN npm ci
COPY nest-cli.json tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx nest build \
 && npm prune --omit=dev

# --- runtime: compiled code and production dependencies only, as the unprivileged `node` user ---
FROM node:20-slim AS runtime
ENV NODE_ENV=production \
    PORT=3000
WORKDIR /app
COPY --from=build --chown=root:root /app/package.json ./package.json
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
# The code is owned by root and read-only for the app; JWT keys come in as a read-only volume.
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/main.js"]
