import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { RateLimiter } from '../../src/infra/rate-limiter';
import type { AppError } from '../../src/shared/errors';

/**
 * The contract every RateLimiter passes. The factory builds a limiter on the clock it is given;
 * the suite moves that clock across window boundaries. Windows are fixed; the memory limiter
 * starts one at a key's first hit, the Redis one at multiples of the window, so every test makes
 * its first hit exactly on a multiple of the window, where both agree.
 */
export function rateLimiterSuite(name: string, make: (now: () => number) => RateLimiter | Promise<RateLimiter>) {
  describe(`RateLimiter contract: ${name}`, () => {
    /** A window of 60 s starts here (a multiple of 60 000 ms). */
    const WINDOW_START = 28_333_334 * 60_000;

    async function limiter() {
      const clock = { now: WINDOW_START };
      const rl = await make(() => clock.now);
      return { rl, clock };
    }

    const key = (label: string) => `${label}-${randomUUID()}`;

    const refusal = (p: Promise<void>) =>
      p.then(
        () => null,
        (e: AppError) => e,
      );

    it('allows `limit` hits per window, then refuses with RATE_LIMITED and the seconds left in the window', async () => {
      const { rl, clock } = await limiter();
      const k = key('burst');
      for (let i = 0; i < 3; i++) await rl.hit(k, 3, 60);
      clock.now = WINDOW_START + 10_000;
      const err = await refusal(rl.hit(k, 3, 60));
      expect(err).toMatchObject({ code: 'RATE_LIMITED', details: { retryAfterSeconds: 50 } });
      clock.now = WINDOW_START + 59_999;
      expect(await refusal(rl.hit(k, 3, 60))).toMatchObject({ code: 'RATE_LIMITED', details: { retryAfterSeconds: 1 } });
    });

    it('allows hits again in the next window', async () => {
      const { rl, clock } = await limiter();
      const k = key('next');
      await rl.hit(k, 2, 60);
      await rl.hit(k, 2, 60);
      await expect(rl.hit(k, 2, 60)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
      clock.now = WINDOW_START + 60_000;
      await expect(rl.hit(k, 2, 60)).resolves.toBeUndefined();
      await expect(rl.hit(k, 2, 60)).resolves.toBeUndefined();
      await expect(rl.hit(k, 2, 60)).rejects.toMatchObject({ code: 'RATE_LIMITED', details: { retryAfterSeconds: 60 } });
    });

    it('counts keys separately', async () => {
      const { rl } = await limiter();
      const a = key('a');
      const b = key('b');
      await rl.hit(a, 1, 60);
      await expect(rl.hit(b, 1, 60)).resolves.toBeUndefined();
      await expect(rl.hit(a, 1, 60)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
      await expect(rl.hit(b, 1, 60)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    });

    it('counts every concurrent hit', async () => {
      const { rl } = await limiter();
      const k = key('concurrent');
      const results = await Promise.all(Array.from({ length: 20 }, () => refusal(rl.hit(k, 5, 60))));
      expect(results.filter((r) => r === null)).toHaveLength(5);
      expect(results.filter((r) => r?.code === 'RATE_LIMITED')).toHaveLength(15);
    });
  });
}
