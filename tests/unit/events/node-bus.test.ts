import { describe, expect, it } from 'vitest';
import { LocalNodeBus, type NodeBus } from '../../../src/events/node-bus';
import { nodeBusSuite } from '../../helpers/node-bus-suite';

nodeBusSuite('local', {
  maxNodes: 1,
  make: async (count) => {
    if (count !== 1) throw new Error('LocalNodeBus is one node');
    return { buses: [new LocalNodeBus()] };
  },
});

describe('LocalNodeBus specifics', () => {
  it('publish is a no-op: no handler runs, the sender’s own included', async () => {
    const bus: NodeBus = new LocalNodeBus();
    const heard: unknown[] = [];
    bus.handle('cancel', (p) => heard.push(p));
    bus.publish('cancel', { turnId: 't1' });
    await bus.gather('cancel', null, 60_000);
    await new Promise((r) => setImmediate(r));
    expect(heard).toEqual([]);
    await bus.close();
  });
});
