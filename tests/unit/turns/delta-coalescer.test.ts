import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DeltaCoalescer } from '../../../src/turns/delta-coalescer';

describe('DeltaCoalescer', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  const setup = (ms = 40) => {
    const frames: [string, string][] = [];
    const c = new DeltaCoalescer<string>(ms, (k, t) => frames.push([k, t]));
    return { c, frames };
  };

  it('merges the deltas of one stream and flushes them once per window', () => {
    const { c, frames } = setup(40);
    c.push('a', 'Hel');
    c.push('a', 'lo');
    vi.advanceTimersByTime(39);
    expect(frames).toEqual([]);
    c.push('a', ', world');
    vi.advanceTimersByTime(1);
    expect(frames).toEqual([['a', 'Hello, world']]);
    c.push('a', '!');
    vi.advanceTimersByTime(40);
    expect(frames).toEqual([['a', 'Hello, world'], ['a', '!']]);
  });

  it('sends at most one frame per window however many tokens arrive', () => {
    const { c, frames } = setup(40);
    for (let i = 0; i < 1000; i++) {
      c.push('a', 'x');
      vi.advanceTimersByTime(1);
    }
    vi.advanceTimersByTime(40);
    expect(frames.length).toBeLessThanOrEqual(Math.ceil(1000 / 40) + 1);
    expect(frames.map(([, t]) => t).join('')).toBe('x'.repeat(1000));
  });

  it('flushes at once at a boundary, and keeps streams apart', () => {
    const { c, frames } = setup(40);
    c.push('a', 'one ');
    c.push('b', 'two ');
    c.flush('a');
    expect(frames).toEqual([['a', 'one ']]);
    expect(c.pending('b')).toBe('two ');
    c.flushAll();
    expect(frames).toEqual([['a', 'one '], ['b', 'two ']]);
    vi.advanceTimersByTime(100);
    expect(frames).toHaveLength(2);
  });

  it('with a zero window sends every delta at once, and ignores empty ones', () => {
    const { c, frames } = setup(0);
    c.push('a', '');
    c.push('a', 'x');
    c.push('a', 'y');
    expect(frames).toEqual([['a', 'x'], ['a', 'y']]);
  });
});
