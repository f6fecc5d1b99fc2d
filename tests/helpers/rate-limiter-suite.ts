import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { RateLimiter } from '../../src/infra/rate-limiter';
import type { AppError } from '../../src/shared/errors';

export interface RateLimiterHarness {
  limiter: RateLimiter;
  /** The window every test of the suite uses: long on a fake clock, short on a real one. */
  windowSeconds: number;
  /**
   * Resolves once the window that `key`'s first hit (under `limit`) started has ended: a fake
   * clock is moved past it; with a real clock, the store is polled until the window is over.
   */
  windowEnded(key: string, limit: number): Promise<void>;
}

/**
 * The contract every RateLimiter passes: fixed windows that start at a key's first hit, and end.
 * The harness owns time, so a limiter that never resets a window, or never counts, fails here.
 */
export function rateLimiterSuite(name: string, make: () => RateLimiterHarness | Promise<RateLimiterHarness>) {
  describe(`RateLimiter contract: ${name}`, () => {
    const key = (label: string) => `${label}-${randomUUID()}`;

    const refusal = (p: Promise<void>) =>
      p.then(
        () => null,
        (e: AppError) => e,
      );

    it('allows `limit` hits per window, then refuses with RATE_LIMITED and the seconds left in the window', async () => {
      const { limiter: rl, windowSeconds: w } = await make();
      const k = key('burst');
      for (let i = 0; i < 3; i++) await rl.hit(k, 3, w);
      const err = await refusal(rl.hit(k, 3, w));
      expect(err).toMatchObject({ code: 'RATE_LIMITED' });
      const retry = (err!.details as { retryAfterSeconds: number }).retryAfterSeconds;
      expect(retry).toBeGreaterThanOrEqual(1);
      expect(retry).toBeLessThanOrEqual(w);
    });

    it('allows hits again once the window has ended, and counts the next window from zero', async () => {
      const { limiter: rl, windowSeconds: w, windowEnded } = await make();
      const k = key('next');
      await rl.hit(k, 2, w);
      await rl.hit(k, 2, w);
      await expect(rl.hit(k, 2, w)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
      await windowEnded(k, 2);
      await expect(rl.hit(k, 2, w)).resolves.toBeUndefined();
      await expect(rl.hit(k, 2, w)).resolves.toBeUndefined();
      await expect(rl.hit(k, 2, w)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    });

    it('counts keys separately', async () => {
      const { limiter: rl, windowSeconds: w } = await make();
      const a = key('a');
      const b = key('b');
      await rl.hit(a, 1, w);
      await expect(rl.hit(b, 1, w)).resolves.toBeUndefined();
      await expect(rl.hit(a, 1, w)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
      await expect(rl.hit(b, 1, w)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    });

    it('counts every concurrent hit', async () => {
      const { limiter: rl, windowSeconds: w } = await make();
      const k = key('concurrent');
      const results = await Promise.all(Array.from({ length: 20 }, () => refusal(rl.hit(k, 5, w))));
      expect(results.filter((r) => r === null)).toHaveLength(5);
      expect(results.filter((r) => r?.code === 'RATE_LIMITED')).toHaveLength(15);
    });
  });
}
