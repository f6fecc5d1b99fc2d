import type { Redis } from 'ioredis';
import { AppError } from '../shared/errors';

/** Fixed-window counters per key; `hit` throws RATE_LIMITED past `limit` in the window. */
export interface RateLimiter {
  hit(key: string, limit: number, windowSeconds: number): Promise<void>;
}

export interface RateLimiterOptions {
  /** The clock, in epoch milliseconds; tests move it across window boundaries. */
  now?: () => number;
}

/** One node: a window starts at a key's first hit. */
export class MemoryRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();
  private readonly now: () => number;

  constructor(opts: RateLimiterOptions = {}) {
    this.now = opts.now ?? Date.now;
  }

  async hit(key: string, limit: number, windowSeconds: number): Promise<void> {
    const now = this.now();
    let w = this.windows.get(key);
    if (!w || w.resetAt <= now) {
      if (this.windows.size > 100_000) this.sweep(now);
      this.windows.set(key, (w = { count: 0, resetAt: now + windowSeconds * 1000 }));
    }
    if (++w.count > limit) throw limited(Math.ceil((w.resetAt - now) / 1000));
  }

  private sweep(now: number) {
    for (const [k, w] of this.windows) if (w.resetAt <= now) this.windows.delete(k);
  }
}

/**
 * Across nodes: one INCR + EXPIRE per hit, on windows aligned to multiples of `windowSeconds`.
 * A Redis failure lets the request through (fail open).
 */
export class RedisRateLimiter implements RateLimiter {
  private readonly now: () => number;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    opts: RateLimiterOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
  }

  async hit(key: string, limit: number, windowSeconds: number): Promise<void> {
    const nowSeconds = Math.floor(this.now() / 1000);
    const window = Math.floor(nowSeconds / windowSeconds);
    const k = `${this.prefix}rl:${key}:${window}`;
    let count: number;
    try {
      const res = await this.redis.multi().incr(k).expire(k, windowSeconds + 1).exec();
      count = Number(res?.[0]?.[1] ?? 0);
    } catch {
      return;
    }
    if (count > limit) throw limited(windowSeconds - (nowSeconds % windowSeconds));
  }
}

const limited = (retryAfter: number) =>
  new AppError('RATE_LIMITED', `Too many requests; retry in ${retryAfter}s`, { retryAfterSeconds: retryAfter });
