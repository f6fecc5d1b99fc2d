/**
 * The behaviour every NodeBus shares. Each implementation's test file calls
 * `nodeBusSuite(name, factory)`; `factory.make(count)` builds `count` fresh nodes of one isolated
 * deployment (their own connections and prefix). An implementation that can only be one node
 * (`maxNodes: 1`) runs the "alone" part only.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { NodeBus } from '../../src/events/node-bus';

export interface NodesUnderTest {
  buses: NodeBus[];
  /** Runs after every bus was closed: ends connections, removes keys. */
  cleanup?: () => Promise<void>;
}

export interface NodeBusFactory {
  /** How many connected nodes `make` can build. */
  maxNodes: number;
  make(count: number): Promise<NodesUnderTest>;
}

/** Calls a handler received, in order; a test waits for a condition, woken by each call. */
class Heard {
  readonly calls: { node: string; topic: string; payload: unknown }[] = [];
  private waiters: { check: () => boolean; resolve: () => void }[] = [];

  record(node: string, topic: string, payload: unknown) {
    this.calls.push({ node, topic, payload });
    this.waiters = this.waiters.filter((w) => (w.check() ? (w.resolve(), false) : true));
  }

  by(node: string, topic?: string) {
    return this.calls.filter((c) => c.node === node && (topic === undefined || c.topic === topic));
  }

  until(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; heard: ${JSON.stringify(this.calls)}`)), timeoutMs);
      this.waiters.push({
        check,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }
}

/** Far longer than the test timeout: a gather that waited for it would fail the test. */
const NEVER = 60_000;

/** Answers come in any order: compare them as multisets. */
const expectAnswers = (actual: unknown[], expected: unknown[]) => {
  const sorted = (xs: unknown[]) => xs.map((x) => JSON.stringify(x)).sort();
  expect(sorted(actual)).toEqual(sorted(expected));
};

export function nodeBusSuite(name: string, factory: NodeBusFactory) {
  describe(`NodeBus contract: ${name}`, () => {
    const open: NodesUnderTest[] = [];
    afterEach(async () => {
      for (const made of open.splice(0)) {
        for (const bus of made.buses) await bus.close();
        await made.cleanup?.();
      }
    });

    async function nodes(count: number) {
      const made = await factory.make(count);
      open.push(made);
      return made.buses;
    }

    describe('alone', () => {
      it('gathers nothing, at once, however long the timeout', async () => {
        const [solo] = await nodes(1);
        solo!.handle('q', () => 'self');
        await expect(solo!.gather('q', 1, NEVER)).resolves.toEqual([]);
      });
    });

    if (factory.maxNodes < 3) return;

    describe('three nodes', () => {
      async function three() {
        const [a, b, c] = await nodes(3);
        return { a: a!, b: b!, c: c! };
      }

      it('publish reaches every other node once, and not the sender', async () => {
        const { a, b, c } = await three();
        const heard = new Heard();
        for (const [n, bus] of [['a', a], ['b', b], ['c', c]] as const) {
          bus.handle('cancel', (p) => heard.record(n, 'cancel', p));
          bus.handle('barrier', (p) => heard.record(n, 'barrier', p));
        }
        a.publish('cancel', { turnId: 't1' });
        await heard.until(() => heard.by('b', 'cancel').length === 1 && heard.by('c', 'cancel').length === 1, 'b and c to hear the cancel');
        // Messages on the bus arrive in order: once A hears B's later barrier, its own cancel would have arrived.
        b.publish('barrier', null);
        await heard.until(() => heard.by('a', 'barrier').length === 1, 'a to hear the barrier');
        expect(heard.by('a', 'cancel')).toEqual([]);
        expect(heard.by('b', 'cancel')).toEqual([{ node: 'b', topic: 'cancel', payload: { turnId: 't1' } }]);
        expect(heard.by('c', 'cancel')).toEqual([{ node: 'c', topic: 'cancel', payload: { turnId: 't1' } }]);
      });

      it('gather collects one answer per other node and returns as soon as all answered', async () => {
        const { a, b, c } = await three();
        const asked: string[] = [];
        a.handle('partials', () => {
          asked.push('a');
          return 'from a';
        });
        b.handle('partials', (p) => {
          asked.push('b');
          return `from b for ${String(p)}`;
        });
        c.handle('partials', async (p) => {
          asked.push('c');
          return `from c for ${String(p)}`;
        });
        // The timeout is longer than the test's: this only passes if gather stops at the last answer.
        const answers = await a.gather<string>('partials', 'turn-1', NEVER);
        expectAnswers(answers, ['from b for turn-1', 'from c for turn-1']);
        expect(asked.sort()).toEqual(['b', 'c']);
      });

      it('a node whose handler never answers makes gather return at the timeout with the others’ answers', async () => {
        const { a, b, c } = await three();
        let cAsked!: () => void;
        const cWasAsked = new Promise<void>((r) => (cAsked = r));
        b.handle('partials', () => 'from b');
        c.handle('partials', () => {
          cAsked();
          return new Promise(() => undefined);
        });
        // Long enough for B to answer on a busy machine; C never does.
        const answers = await a.gather<string>('partials', null, 1500);
        await cWasAsked;
        expect(answers).toEqual(['from b']);
      });

      it('a node without a handler for the topic still answers, with null', async () => {
        const { a, b } = await three();
        b.handle('partials', () => 'from b');
        const answers = await a.gather('partials', null, NEVER);
        expectAnswers(answers, ['from b', null]);
      });

      it('a node whose handler fails answers null at once', async () => {
        const { a, b, c } = await three();
        b.handle('partials', () => 'from b');
        c.handle('partials', () => {
          throw new Error('expected: a failing handler');
        });
        const answers = await a.gather('partials', null, NEVER);
        expectAnswers(answers, ['from b', null]);
      });

      it('close() resolves the gathers still waiting, with what arrived', async () => {
        const { a, b, c } = await three();
        const heard = new Heard();
        b.handle('partials', () => {
          heard.record('b', 'partials', null);
          return new Promise(() => undefined);
        });
        c.handle('partials', () => {
          heard.record('c', 'partials', null);
          return new Promise(() => undefined);
        });
        const pending = a.gather('partials', null, NEVER);
        await heard.until(() => heard.calls.length === 2, 'b and c to be asked');
        await a.close();
        await expect(pending).resolves.toEqual([]);
      });

      it('keeps concurrent gathers apart', async () => {
        const { a, b, c } = await three();
        b.handle('echo', async (p) => `b:${String(p)}`);
        c.handle('echo', (p) => `c:${String(p)}`);
        const [one, two] = await Promise.all([a.gather('echo', 1, NEVER), b.gather('echo', 2, NEVER)]);
        expectAnswers(one, ['b:1', 'c:1']);
        expectAnswers(two, [null, 'c:2']);
      });
    });
  });
}
