import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../shared/logger';

/**
 * An ioredis connection with an error listener: a Redis outage is logged (once per burst) and
 * retried by ioredis, never an unhandled 'error' event that would crash the process.
 */
export function createRedis(url: string, logger: Logger, name: string, extra: RedisOptions = {}): Redis {
  const redis = new Redis(url, {
    connectionName: `pantheon:${name}`,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    ...extra,
  });
  let lastLogged = 0;
  redis.on('error', (err) => {
    const now = Date.now();
    if (now - lastLogged > 5000) {
      lastLogged = now;
      logger.warn('redis error', { connection: name, message: err.message });
    }
  });
  return redis;
}

export async function quitRedis(redis: Redis): Promise<void> {
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}
