import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisRateLimiter } from '../../../src/infra/rate-limiter';
import { rateLimiterSuite } from '../../helpers/rate-limiter-suite';
import { TEST_REDIS_URL, uniqueRedisPrefix } from '../../helpers/services';
import { deleteRedisKeys } from '../files/redis-cleanup';

const redis = new Redis(TEST_REDIS_URL);
const prefix = uniqueRedisPrefix();
afterAll(async () => {
  await redis.quit();
  await deleteRedisKeys(prefix);
});

rateLimiterSuite('redis', (now) => new RedisRateLimiter(redis, prefix, { now }));

describe('RedisRateLimiter specifics', () => {
  it('shares one count between two limiters on the same Redis', async () => {
    const other = new Redis(TEST_REDIS_URL);
    try {
      // One fixed instant, so both hits land in one window whatever the real time.
      const now = () => 1_700_000_040_000;
      const a = new RedisRateLimiter(redis, prefix, { now });
      const b = new RedisRateLimiter(other, prefix, { now });
      await a.hit('shared', 2, 60);
      await b.hit('shared', 2, 60);
      await expect(a.hit('shared', 2, 60)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    } finally {
      await other.quit();
    }
  });

  it('lets requests through when Redis fails (fail open)', async () => {
    const down = new Redis('redis://127.0.0.1:1', { maxRetriesPerRequest: 0, retryStrategy: () => null });
    const errors: Error[] = [];
    down.on('error', (e) => errors.push(e));
    try {
      const rl = new RedisRateLimiter(down, prefix);
      for (let i = 0; i < 3; i++) await expect(rl.hit('unreachable', 1, 60)).resolves.toBeUndefined();
      expect(errors.length).toBeGreaterThan(0);
    } finally {
      down.disconnect();
    }
  });
});
