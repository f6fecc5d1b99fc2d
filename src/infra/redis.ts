import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../shared/logger';
import { StartupError } from './data-dir';

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
  // QUIT on a connection that is not up would wait in the offline queue for a reconnection.
  if (redis.status !== 'ready') {
    redis.disconnect();
    return;
  }
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}

/** How long start-up waits for Redis when the connection neither succeeds nor fails (a black hole). */
const STARTUP_WAIT_MS = 10_000;

/**
 * Start-up check: Redis answers a PING, or start-up fails at once naming the URL (without its
 * password) rather than retrying in the background while nothing listens.
 */
export async function assertRedisReachable(redis: Redis, url: string, waitMs = STARTUP_WAIT_MS): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let onError: ((err: Error) => void) | undefined;
  try {
    await Promise.race([
      redis.ping(),
      new Promise<never>((_, reject) => {
        onError = reject;
        redis.once('error', onError);
        timer = setTimeout(() => reject(new Error(`no answer within ${waitMs} ms`)), waitMs);
      }),
    ]);
  } catch (err) {
    throw new StartupError(`Redis at ${redactUrl(url)} is not reachable (${(err as Error).message}); check REDIS_URL.`);
  } finally {
    clearTimeout(timer);
    if (onError) redis.off('error', onError);
  }
}

/** A URL safe to print: the password replaced. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(an unparseable URL)';
  }
}
