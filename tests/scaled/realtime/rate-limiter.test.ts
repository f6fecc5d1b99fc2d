import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisRateLimiter } from '../../../src/infra/rate-limiter';
import { rateLimiterSuite } from '../../helpers/rate-limiter-suite';
import { TEST_REDIS_URL, uniqueRedisPrefix } from '../../helpers/services';

const redis = new Redis(TEST_REDIS_URL);
const prefix = uniqueRedisPrefix();
afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

rateLimiterSuite('redis', () => new RedisRateLimiter(redis, prefix));

describe('RedisRateLimiter across nodes', () => {
  it('shares one count between two limiters on the same Redis', async () => {
    const other = new Redis(TEST_REDIS_URL);
    try {
      const a = new RedisRateLimiter(redis, prefix);
      const b = new RedisRateLimiter(other, prefix);
      await a.hit('shared', 2, 60);
      await b.hit('shared', 2, 60);
      await expect(a.hit('shared', 2, 60)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    } finally {
      await other.quit();
    }
  });
});
