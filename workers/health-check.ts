// The container health check of the file worker (docker-compose.yml): exits 0 when the worker's
// queue in Redis answers within 3 s, 1 otherwise. The worker has no HTTP port; a worker process
// that dies exits, and the restart policy brings it back.
import { Redis } from 'ioredis';
import { loadConfig } from '../src/config/config';

const TIMEOUT_MS = 3000;

async function main() {
  const config = loadConfig();
  if (!config.redisUrl) throw new Error('REDIS_URL is not set');
  const redis = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: TIMEOUT_MS });
  const timer = setTimeout(() => process.exit(1), TIMEOUT_MS);
  await redis.connect();
  await redis.ping();
  clearTimeout(timer);
  redis.disconnect();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`unhealthy: ${(err as Error)?.message ?? String(err)}\n`);
    process.exit(1);
  },
);
