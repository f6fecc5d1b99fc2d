import { describe, expect, it } from 'vitest';
import { MemoryBroadcaster } from '../../../src/events/memory-broadcaster';

// What only the memory ring does; the shared behaviour is in tests/helpers/room-events-suite.ts.
describe('MemoryBroadcaster specifics', () => {
  const room = '00000000-0000-4000-8000-000000000001';

  it('ages out each event on its own: in a busy room the old ones go while the recent ones stay', async () => {
    let now = 1_000_000;
    const b = new MemoryBroadcaster(() => undefined, { maxEvents: 100, ttlSeconds: 10, now: () => now });
    await b.publish(room, 'room:updated', { name: 'first' });
    now += 6_000;
    await b.publish(room, 'room:updated', { name: 'second' });
    now += 6_000; // the first is 12 s old, the second 6 s
    expect(await b.since(room, 0)).toMatchObject({ gap: true, seq: 2 });
    const r = await b.since(room, 1);
    expect(r.gap ? [] : r.events.map((e) => e.data.seq)).toEqual([2]);
  });

  it('delivers before publish() resolves (synchronous delivery)', async () => {
    const delivered: number[] = [];
    const b = new MemoryBroadcaster((_r, _e, d) => delivered.push(d.seq), { maxEvents: 10, ttlSeconds: 60 });
    const pending = b.publish(room, 'room:updated', { name: 'n' });
    expect(delivered).toEqual([1]);
    await pending;
  });

  it('keeps the last maxEvents events through many publishes into a full log, replaying from any of them', async () => {
    const b = new MemoryBroadcaster(() => undefined, { maxEvents: 10, ttlSeconds: 60 });
    const seqsAfter = async (lastSeq: number) => {
      const r = await b.since(room, lastSeq);
      return r.gap ? 'gap' : r.events.map((e) => e.data.seq);
    };
    for (let i = 1; i <= 57; i++) {
      await b.publish(room, 'room:updated', { name: `n${i}` });
      // Past the length limit the oldest goes with each publish, wherever the log was cut.
      const oldest = Math.max(1, i - 9);
      expect(await seqsAfter(oldest - 1)).toEqual(Array.from({ length: i - oldest + 1 }, (_, k) => oldest + k));
      if (oldest > 1) expect(await seqsAfter(oldest - 2)).toBe('gap');
    }
    expect(await seqsAfter(53)).toEqual([54, 55, 56, 57]);
    expect(await seqsAfter(57)).toEqual([]);
    const r = await b.since(room, 55);
    expect(r.gap ? [] : r.events.map((e) => (e.data as { name?: string }).name)).toEqual(['n56', 'n57']);
  });
});
