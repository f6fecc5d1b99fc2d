FROM node:24-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
ENV NODE_ENV=production PORT=3000
EXPOSE 3000
# The server is PID 1 and receives SIGTERM itself (npm would not pass it on): running turns
# finish within SHUTDOWN_GRACE_MS before the container stops.
STOPSIGNAL SIGTERM
CMD ["node", "--import", "tsx", "src/main.ts"]
