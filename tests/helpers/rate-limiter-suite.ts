import { describe, expect, it } from 'vitest';
import type { RateLimiter } from '../../src/infra/rate-limiter';

/** The contract every RateLimiter passes. */
export function rateLimiterSuite(name: string, make: () => RateLimiter | Promise<RateLimiter>) {
  describe(`RateLimiter: ${name}`, () => {
    it('allows `limit` hits per window, then refuses with RATE_LIMITED and a retry hint', async () => {
      const rl = await make();
      const key = `k-${Math.random()}`;
      for (let i = 0; i < 3; i++) await rl.hit(key, 3, 60);
      const err = await rl.hit(key, 3, 60).then(
        () => null,
        (e) => e,
      );
      expect(err?.code).toBe('RATE_LIMITED');
      expect(err?.details?.retryAfterSeconds).toBeGreaterThan(0);
    });

    it('counts keys separately', async () => {
      const rl = await make();
      const a = `a-${Math.random()}`;
      const b = `b-${Math.random()}`;
      await rl.hit(a, 1, 60);
      await expect(rl.hit(b, 1, 60)).resolves.toBeUndefined();
      await expect(rl.hit(a, 1, 60)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    });
  });
}
