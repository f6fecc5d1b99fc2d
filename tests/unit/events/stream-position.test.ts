import { describe, expect, it } from 'vitest';
import { newEpoch } from '../../../src/events/stream-position';

describe('newEpoch', () => {
  it('gives a different 72-bit random epoch each time, across refills of its random pool', () => {
    const seen = new Set<string>();
    // Several times the pool's 256 epochs, so refills are crossed.
    for (let i = 0; i < 2000; i++) {
      const e = newEpoch();
      expect(e).toMatch(/^[A-Za-z0-9_-]{12}$/);
      seen.add(e);
    }
    expect(seen.size).toBe(2000);
  });
});
