import { describe, expect, it } from 'vitest';
import { MemoryBroadcaster } from '../../../src/events/memory-broadcaster';

describe('MemoryBroadcaster', () => {
  const room = '00000000-0000-4000-8000-000000000001';

  it('numbers events per room from 1, delivers them in order and replays from any seq in the log', async () => {
    const delivered: number[] = [];
    const b = new MemoryBroadcaster((_r, _e, d) => delivered.push(d.seq), { maxEvents: 100, ttlSeconds: 60 });
    for (let i = 0; i < 5; i++) await b.publish(room, 'room:updated', { name: `n${i}` });
    await b.publish('00000000-0000-4000-8000-000000000002', 'room:updated', { name: 'other' });
    expect(delivered).toEqual([1, 2, 3, 4, 5, 1]);
    const r = await b.since(room, 2);
    expect(r.gap).toBe(false);
    expect(r.gap ? [] : r.events.map((e) => e.data.seq)).toEqual([3, 4, 5]);
    expect(await b.since(room, 5)).toEqual({ gap: false, events: [], seq: 5 });
  });

  it('reports a gap when the ring no longer reaches back, or the client is ahead', async () => {
    const b = new MemoryBroadcaster(() => undefined, { maxEvents: 10, ttlSeconds: 60 });
    for (let i = 0; i < 25; i++) await b.publish(room, 'room:updated', { name: `n${i}` });
    expect((await b.since(room, 15)).gap).toBe(false);
    expect((await b.since(room, 14)).gap).toBe(true);
    expect((await b.since(room, 3)).gap).toBe(true);
    expect((await b.since(room, 99)).gap).toBe(true);
  });

  it('forgets events older than the TTL', async () => {
    let now = 1_000_000;
    const b = new MemoryBroadcaster(() => undefined, { maxEvents: 100, ttlSeconds: 10, now: () => now });
    await b.publish(room, 'room:updated', { name: 'old' });
    now += 11_000;
    await b.publish(room, 'room:updated', { name: 'new' });
    expect((await b.since(room, 0)).gap).toBe(true);
    expect((await b.since(room, 1)).gap).toBe(false);
  });
});
