import { MemoryBroadcaster } from '../../../src/events/memory-broadcaster';
import { roomEventsSuite } from '../../helpers/room-events-suite';

// One node: the broadcaster is its own replay log and delivers synchronously. A clock of its own
// lets the TTL pass without waiting.
roomEventsSuite('memory', async ({ maxEvents, ttlSeconds, deliver }) => {
  let now = 1_700_000_000_000;
  const make = () => new MemoryBroadcaster(deliver, { maxEvents, ttlSeconds, now: () => now });
  const pair = (b: MemoryBroadcaster) => ({ broadcaster: b, replayLog: b, otherPublishers: [b] });
  let b = make();
  return {
    ...pair(b),
    outliveTtl: async () => {
      now += ttlSeconds * 1000 + 1;
    },
    // A restarted embedded server is a new process: nothing of the old one's memory is left.
    async restartEmpty() {
      await b.close();
      b = make();
      return pair(b);
    },
    close: () => b.close(),
  };
});
