import { MemoryBroadcaster } from '../../../src/events/memory-broadcaster';
import { roomEventsSuite } from '../../helpers/room-events-suite';

// One node: the broadcaster is its own replay log and delivers synchronously. A clock of its own
// lets the TTL pass without waiting.
roomEventsSuite('memory', async ({ maxEvents, ttlSeconds, deliver }) => {
  let now = 1_700_000_000_000;
  const b = new MemoryBroadcaster(deliver, { maxEvents, ttlSeconds, now: () => now });
  return {
    broadcaster: b,
    replayLog: b,
    otherPublishers: [b],
    outliveTtl: async () => {
      now += ttlSeconds * 1000 + 1;
    },
    close: () => b.close(),
  };
});
