import type { RequestHandler } from 'express';
import type { RateLimiter } from '../../infra/rate-limiter';
import { currentUser } from './auth';

/** Per-user request limit across nodes; answers 429 RATE_LIMITED with Retry-After. */
export function rateLimit(limiter: RateLimiter, perMinute: number): RequestHandler {
  return async (req, res, next) => {
    try {
      await limiter.hit(`req:${currentUser(req).id}`, perMinute, 60);
    } catch (err) {
      const retry = (err as { details?: { retryAfterSeconds?: number } }).details?.retryAfterSeconds;
      if (retry) res.setHeader('Retry-After', String(retry));
      throw err;
    }
    next();
  };
}
