import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { memoryRateLimiter } from '../../../src/infra/rate-limiter';
import { rateLimiterSuite } from '../../helpers/rate-limiter-suite';

// rate-limiter-flexible reads Date.now(): a fake Date moves its windows, and only Date is faked.
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(1_700_000_000_000);
});
afterEach(() => {
  vi.useRealTimers();
});

const elapse = (ms: number) => {
  vi.setSystemTime(Date.now() + ms);
};

rateLimiterSuite('memory', () => ({
  limiter: memoryRateLimiter(),
  windowSeconds: 60,
  windowEnded: async () => elapse(60_000),
}));

describe('memory rate limiter on a moving clock', () => {
  it('starts a window at the key’s first hit and counts the seconds left in it down', async () => {
    const rl = memoryRateLimiter();
    await rl.hit('a', 1, 60);
    elapse(10_000);
    await rl.hit('b', 1, 60); // b's window starts 10 s after a's
    await expect(rl.hit('a', 1, 60)).rejects.toMatchObject({ details: { retryAfterSeconds: 50 } });
    await expect(rl.hit('b', 1, 60)).rejects.toMatchObject({ details: { retryAfterSeconds: 60 } });
    elapse(49_999);
    await expect(rl.hit('a', 1, 60)).rejects.toMatchObject({ details: { retryAfterSeconds: 1 } });
    elapse(1);
    await expect(rl.hit('a', 1, 60)).resolves.toBeUndefined();
    await expect(rl.hit('b', 1, 60)).rejects.toMatchObject({ details: { retryAfterSeconds: 10 } });
  });
});
