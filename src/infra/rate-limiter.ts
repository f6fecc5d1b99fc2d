import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type IRateLimiterOptions } from 'rate-limiter-flexible';
import { AppError } from '../shared/errors';
import type { Logger } from '../shared/logger';

/**
 * Fixed windows per key, each starting at the key's first hit (the same in memory and in Redis);
 * `hit` throws RATE_LIMITED, with the seconds left in the window, past `limit` hits in it.
 */
export interface RateLimiter {
  hit(key: string, limit: number, windowSeconds: number): Promise<void>;
}

type Consume = (key: string) => Promise<unknown>;

/**
 * rate-limiter-flexible wants one limiter object per (points, duration); our callers pass the
 * limit with each hit. One object per pair, made on its first use: callers use a handful of pairs,
 * and each pair counts on its own.
 */
class PerPairLimiter implements RateLimiter {
  private readonly byPair = new Map<string, Consume>();

  constructor(private readonly make: (points: number, duration: number) => Consume) {}

  async hit(key: string, limit: number, windowSeconds: number): Promise<void> {
    const pair = `${limit}:${windowSeconds}`;
    let consume = this.byPair.get(pair);
    if (!consume) this.byPair.set(pair, (consume = this.make(limit, windowSeconds)));
    try {
      await consume(key);
    } catch (err) {
      // The library rejects with a RateLimiterRes when the limit is passed, with an Error otherwise.
      if (err instanceof RateLimiterRes) throw limited(Math.max(1, Math.ceil(err.msBeforeNext / 1000)));
      throw err;
    }
  }
}

/** One node. */
export function memoryRateLimiter(): RateLimiter {
  return new PerPairLimiter((points, duration) => {
    const limiter = new RateLimiterMemory({ points, duration });
    return (key) => limiter.consume(key);
  });
}

/** The Redis key counting `key` for one (limit, window) pair: the limiter's keyPrefix, ':', the key. */
export const redisRateLimitKey = (prefix: string, limit: number, windowSeconds: number, key: string) =>
  `${pairPrefix(prefix, limit, windowSeconds)}:${key}`;
const pairPrefix = (prefix: string, limit: number, windowSeconds: number) => `${prefix}rl:${limit}:${windowSeconds}`;

/** At most one "Redis is unavailable" line per this long, while it lasts. */
const FALLBACK_LOG_EVERY_MS = 60_000;

/**
 * Across nodes: one Lua script per hit (SET NX EX, INCRBY, PTTL). When Redis fails or its
 * connection is not ready, the hit is counted by a per-node memory limiter of the same pair
 * (rate-limiter-flexible's insuranceLimiter): limits stay in force, per node instead of per
 * deployment, and a warning says so. Requests are never let through unlimited.
 */
export function redisRateLimiter(redis: Redis, prefix: string, logger?: Logger): RateLimiter {
  let lastLogged = -Infinity;
  const onFallback = () => {
    const now = performance.now();
    if (now - lastLogged < FALLBACK_LOG_EVERY_MS) return;
    lastLogged = now;
    logger?.warn('rate limits counted per node: Redis is unavailable to the rate limiter');
  };
  return new PerPairLimiter((points, duration) => {
    const limiter = new RateLimiterRedis({
      storeClient: redis,
      points,
      duration,
      keyPrefix: pairPrefix(prefix, points, duration),
      // Fail over at once while ioredis reconnects, instead of queueing the hit until it does.
      rejectIfRedisNotReady: true,
      insuranceLimiter: new PerNodeInsurance({ points, duration }, onFallback),
    });
    return (key) => limiter.consume(key);
  });
}

/** The insurance limiter, reporting that it is in use. */
class PerNodeInsurance extends RateLimiterMemory {
  constructor(
    opts: IRateLimiterOptions,
    private readonly onUse: () => void,
  ) {
    super(opts);
  }

  override consume(key: string | number, points?: number, options?: { [key: string]: unknown }): Promise<RateLimiterRes> {
    this.onUse();
    return super.consume(key, points, options);
  }
}

const limited = (retryAfter: number) =>
  new AppError('RATE_LIMITED', `Too many requests; retry in ${retryAfter}s`, { retryAfterSeconds: retryAfter });
