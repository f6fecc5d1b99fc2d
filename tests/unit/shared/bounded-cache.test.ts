import { describe, expect, it } from 'vitest';
import { BoundedCache } from '../../../src/shared/bounded-cache';

describe('BoundedCache', () => {
  it('builds an entry once and keeps at most max, dropping the least recently used', () => {
    const cache = new BoundedCache<string, { name: string }>(2);
    let built = 0;
    const make = (name: string) => () => (built++, { name });
    const a = cache.getOrCreate('a', make('a'));
    cache.getOrCreate('b', make('b'));
    expect(cache.getOrCreate('a', make('a2'))).toBe(a); // a is now the most recent
    cache.getOrCreate('c', make('c')); // drops b
    expect(cache.size).toBe(2);
    expect(built).toBe(3);
    expect(cache.getOrCreate('a', make('a3'))).toBe(a);
    expect(cache.getOrCreate('b', make('b2')).name).toBe('b2');
    expect(built).toBe(4);
  });
});
