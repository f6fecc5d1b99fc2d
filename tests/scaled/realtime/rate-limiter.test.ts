import { once } from 'node:events';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { redisRateLimiter, redisRateLimitKey } from '../../../src/infra/rate-limiter';
import { createRedis } from '../../../src/infra/redis';
import type { Logger } from '../../../src/shared/logger';
import { cleanEnv, spawnProcess, type Spawned } from '../../helpers/process';
import { rateLimiterSuite } from '../../helpers/rate-limiter-suite';
import { TEST_REDIS_URL, uniqueRedisPrefix } from '../../helpers/services';
import { waitFor } from '../../helpers/raw-upload';
import { deleteRedisKeys } from '../files/redis-cleanup';

const redis = new Redis(TEST_REDIS_URL);
const prefix = uniqueRedisPrefix();
/** The limiter counts in memory while its connection is not ready: every test here starts on a ready one. */
const ready = async (conn: Redis) => {
  if (conn.status !== 'ready') await once(conn, 'ready');
  return conn;
};
afterAll(async () => {
  await redis.quit();
  await deleteRedisKeys(prefix);
});

/** Redis expires a window on its own clock: a short window, and the key is polled until it is gone. */
const WINDOW_SECONDS = 2;
rateLimiterSuite('redis', async () => ({
  limiter: redisRateLimiter(await ready(redis), prefix),
  windowSeconds: WINDOW_SECONDS,
  windowEnded: async (key, limit) => {
    const stored = redisRateLimitKey(prefix, limit, WINDOW_SECONDS, key);
    expect(await redis.exists(stored)).toBe(1); // the window is counted in Redis, not elsewhere
    let gone = false;
    const poll = () => void redis.exists(stored).then((n) => (gone = n === 0));
    return waitFor(() => (poll(), gone), `the window of ${key} to end`, (WINDOW_SECONDS + 3) * 1000);
  },
}));

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const logger: Logger & { warnings: string[] } = {
    warnings,
    debug: () => undefined,
    info: () => undefined,
    warn: (msg) => void warnings.push(msg),
    error: () => undefined,
    child: () => logger,
  };
  return logger;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** A redis-server of this test's own, which it stops and starts again. */
async function startRedisServer(port: number): Promise<Spawned> {
  const server = spawnProcess('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], cleanEnv({}));
  await server.waitFor(/Ready to accept connections/, 10_000);
  return server;
}

describe('redis rate limiter specifics', () => {
  it('shares one count between two connections to the same Redis', async () => {
    const other = new Redis(TEST_REDIS_URL);
    try {
      const a = redisRateLimiter(await ready(redis), prefix);
      const b = redisRateLimiter(await ready(other), prefix);
      await a.hit('shared', 2, 60);
      await b.hit('shared', 2, 60);
      await expect(a.hit('shared', 2, 60)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
      await expect(b.hit('shared', 2, 60)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
      expect(await redis.exists(redisRateLimitKey(prefix, 2, 60, 'shared'))).toBe(1);
    } finally {
      await other.quit();
    }
  });

  it('keeps limiting, per node, while Redis is down, says so once, and shares counts again when it is back', async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    let server = await startRedisServer(port);
    const logger = recordingLogger();
    const conn = createRedis(url, logger, 'rate-limit-test');
    const ownPrefix = uniqueRedisPrefix();
    try {
      await ready(conn);
      const rl = redisRateLimiter(conn, ownPrefix, logger);
      await rl.hit('before', 2, 60);
      expect(await conn.exists(redisRateLimitKey(ownPrefix, 2, 60, 'before'))).toBe(1);

      const closed = once(conn, 'close');
      await server.stop('SIGKILL');
      await closed;
      // Down: the limit still holds (not fail-open), and no hit fails with an error.
      await rl.hit('during', 2, 60);
      await rl.hit('during', 2, 60);
      await expect(rl.hit('during', 2, 60)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
      for (let i = 0; i < 5; i++) await expect(rl.hit(`other-${i}`, 2, 60)).resolves.toBeUndefined();
      expect(logger.warnings.filter((w) => w.includes('rate limits counted per node'))).toHaveLength(1);

      server = await startRedisServer(port);
      await ready(conn);
      await rl.hit('after', 2, 60);
      expect(await conn.exists(redisRateLimitKey(ownPrefix, 2, 60, 'after'))).toBe(1);
    } finally {
      conn.disconnect();
      await server.stop('SIGKILL');
    }
  });
});
