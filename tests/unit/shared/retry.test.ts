import { describe, expect, it } from 'vitest';
import { backoffMs, retry } from '../../../src/shared/retry';

const transient = (err: unknown) => (err as Error).message === 'transient';

describe('retry', () => {
  it('tries again after a retryable error until the call succeeds', async () => {
    let calls = 0;
    const result = await retry(
      async () => {
        if (++calls < 3) throw new Error('transient');
        return 'stored';
      },
      { retryable: transient },
    );
    expect(result).toBe('stored');
    expect(calls).toBe(3);
  });

  it('throws any other error at once', async () => {
    let calls = 0;
    const failing = retry(
      async () => {
        calls++;
        throw new Error('constraint');
      },
      { retryable: transient },
    );
    await expect(failing).rejects.toThrow('constraint');
    expect(calls).toBe(1);
  });

  it('gives up with the last error once its signal is aborted', async () => {
    const stop = new AbortController();
    let calls = 0;
    const failing = retry(
      async () => {
        if (++calls === 2) stop.abort();
        throw new Error('transient');
      },
      { retryable: transient, signal: stop.signal },
    );
    await expect(failing).rejects.toThrow('transient');
    expect(calls).toBe(2);
  });

  it('waits at most a second between attempts', () => {
    for (const attempt of [1, 5, 10, 100]) expect(backoffMs(attempt)).toBeLessThanOrEqual(1_000);
    expect(backoffMs(1)).toBeLessThanOrEqual(20);
  });
});
