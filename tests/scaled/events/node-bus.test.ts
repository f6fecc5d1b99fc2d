import { Redis } from 'ioredis';
import { expect } from 'vitest';
import { RedisNodeBus } from '../../../src/events/node-bus';
import { nodeBusSuite } from '../../helpers/node-bus-suite';
import { TEST_REDIS_URL, uniqueRedisPrefix } from '../../helpers/services';

// Each node has its own publishing and subscribing connections; each test its own prefix.
nodeBusSuite('redis', {
  maxNodes: Number.POSITIVE_INFINITY,
  async make(count) {
    const keyPrefix = uniqueRedisPrefix();
    const connections: Redis[] = [];
    const buses: RedisNodeBus[] = [];
    const errors: unknown[] = [];
    for (let i = 0; i < count; i++) {
      const pub = new Redis(TEST_REDIS_URL);
      const sub = new Redis(TEST_REDIS_URL);
      connections.push(pub, sub);
      const bus = new RedisNodeBus(pub, sub, keyPrefix, (err) => errors.push(err));
      await bus.start();
      buses.push(bus);
    }
    return {
      buses,
      cleanup: async () => {
        await Promise.all(connections.map((c) => c.quit()));
        // A test may make a handler fail on purpose; anything else reported is a bug.
        expect(errors.filter((e) => !(e instanceof Error && e.message.startsWith('expected:')))).toEqual([]);
      },
    };
  },
});
