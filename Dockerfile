# syntax=docker/dockerfile:1
# Three stages: build (every dependency, TypeScript compiled to dist/), production dependencies
# only, and the image, which holds those and the compiled JavaScript; no TypeScript at run time.

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:24-bookworm-slim
ENV NODE_ENV=production PORT=3000 DATA_DIR=/data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# DATA_DIR (uploaded files; the embedded database when DATABASE_URL is unset) belongs to the
# unprivileged user the server runs as.
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/api/v1/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# The server is PID 1 and receives SIGTERM itself (npm would not pass it on): running turns
# finish within SHUTDOWN_GRACE_MS before the container stops.
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/main.js"]
