/**
 * The behaviour every Broadcaster + ReplayLog pair shares. Each implementation's test file calls
 * `roomEventsSuite(name, factory)`; the factory builds a fresh, isolated pair per test that hands
 * the events it delivers to the `deliver` it is given (through its relay where delivery crosses
 * the network), so the suite sees what a node's sockets would see.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { LoggedRoomEvent, RoomEvent, RoomEventName } from '../../src/contract/events';
import type { Broadcaster, Deliver } from '../../src/events/broadcaster';
import type { ReplayLog } from '../../src/events/replay-log';

export interface RoomEventsUnderTest {
  broadcaster: Broadcaster;
  replayLog: ReplayLog;
  /**
   * More publishers of the same rooms, each on its own connection (other nodes, a file worker).
   * A one-node implementation gives its one broadcaster.
   */
  otherPublishers: Broadcaster[];
  /**
   * Returns once everything the room's log holds has outlived the TTL, with no publish since:
   * a clock moved on, or the log's key expired.
   */
  outliveTtl(roomId: string): Promise<void>;
  /**
   * The store loses every room's counter and log (Redis restarted empty; an embedded server
   * restarted): resolves with the publishers and log to use from then on, delivering as before.
   */
  restartEmpty(): Promise<Pick<RoomEventsUnderTest, 'broadcaster' | 'replayLog' | 'otherPublishers'>>;
  /** Closes the pair and removes what it left behind (keys, connections). */
  close(): Promise<void>;
}

export type RoomEventsFactory = (opts: { maxEvents: number; ttlSeconds: number; deliver: Deliver }) => Promise<RoomEventsUnderTest>;

interface Delivered {
  roomId: string;
  event: RoomEventName;
  data: RoomEvent;
}

/** What a node delivered, in order; a test waits for a count, woken by each delivery. */
class Deliveries {
  readonly all: Delivered[] = [];
  private waiters: { check: () => boolean; resolve: () => void }[] = [];

  deliver: Deliver = (roomId, event, data) => {
    this.all.push({ roomId, event, data });
    this.waiters = this.waiters.filter((w) => (w.check() ? (w.resolve(), false) : true));
  };

  of(roomId: string) {
    return this.all.filter((d) => d.roomId === roomId);
  }

  until(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out waiting for ${what}; delivered seqs: ${JSON.stringify(this.all.map((d) => [d.roomId, d.data.seq]))}`)),
        timeoutMs,
      );
      this.waiters.push({
        check,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  /** Waits until the room has `count` deliveries. */
  untilCount(roomId: string, count: number) {
    return this.until(() => this.of(roomId).length >= count, `${count} deliveries in room ${roomId}`);
  }
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const seqsOf = (events: readonly { data: { seq: number } }[]) => events.map((e) => e.data.seq);
const logged = (event: RoomEventName, data: RoomEvent): LoggedRoomEvent => ({ event, data }) as LoggedRoomEvent;

export function roomEventsSuite(name: string, factory: RoomEventsFactory) {
  describe(`Broadcaster + ReplayLog contract: ${name}`, () => {
    const open: RoomEventsUnderTest[] = [];
    afterEach(async () => {
      for (const s of open.splice(0)) await s.close();
    });

    async function start(opts: { maxEvents?: number; ttlSeconds?: number } = {}) {
      const deliveries = new Deliveries();
      const made = await factory({ maxEvents: opts.maxEvents ?? 1000, ttlSeconds: opts.ttlSeconds ?? 3600, deliver: deliveries.deliver });
      open.push(made);
      return { ...made, deliveries };
    }

    const publishName = (b: Broadcaster, roomId: string, name: string) => b.publish(roomId, 'room:updated', { name });

    it('numbers each room’s events from 1, one up per event, independently of other rooms', async () => {
      const { broadcaster, replayLog } = await start();
      const [a, b] = [randomUUID(), randomUUID()];
      expect((await replayLog.head(a)).seq).toBe(0);
      const seqs: [string, number][] = [];
      for (const room of [a, b, a, a, b, a]) seqs.push([room, (await publishName(broadcaster, room, 'x')).seq]);
      expect(seqs).toEqual([
        [a, 1],
        [b, 1],
        [a, 2],
        [a, 3],
        [b, 2],
        [a, 4],
      ]);
      expect((await replayLog.head(a)).seq).toBe(4);
      expect((await replayLog.head(b)).seq).toBe(2);
      expect((await replayLog.head(randomUUID())).seq).toBe(0);
    });

    it('stamps the envelope (roomId, seq, ts) on the payload and delivers exactly what publish returned', async () => {
      const { broadcaster, deliveries } = await start();
      const room = randomUUID();
      const sent = await broadcaster.publish(room, 'room:updated', { name: 'Renamed', mode: 'roundtable' });
      expect(sent).toEqual({ name: 'Renamed', mode: 'roundtable', roomId: room, epoch: expect.any(String), seq: 1, ts: expect.any(Number) });
      await deliveries.untilCount(room, 1);
      expect(deliveries.of(room)).toEqual([{ roomId: room, event: 'room:updated', data: sent }]);
    });

    it('delivers every room’s events in seq order, whichever publisher sent them', async () => {
      const { broadcaster, otherPublishers, deliveries } = await start();
      const publishers = [broadcaster, ...otherPublishers];
      const [a, b] = [randomUUID(), randomUUID()];
      const sent: RoomEvent[] = [];
      for (let i = 0; i < 20; i++) sent.push(await publishName(publishers[i % publishers.length]!, i % 3 === 0 ? b : a, `e${i}`));
      const inA = sent.filter((e) => e.roomId === a);
      const inB = sent.filter((e) => e.roomId === b);
      await deliveries.untilCount(a, inA.length);
      await deliveries.untilCount(b, inB.length);
      expect(deliveries.of(a).map((d) => d.data)).toEqual(inA);
      expect(deliveries.of(b).map((d) => d.data)).toEqual(inB);
      expect(seqsOf(deliveries.of(a))).toEqual(range(1, inA.length));
      expect(seqsOf(deliveries.of(b))).toEqual(range(1, inB.length));
    });

    it('replays exactly the events after lastSeq, as they were published', async () => {
      const { broadcaster, replayLog } = await start();
      const room = randomUUID();
      const sent: RoomEvent[] = [];
      for (let i = 0; i < 6; i++) sent.push(await publishName(broadcaster, room, `e${i}`));
      const { epoch } = sent[0]!;
      expect(await replayLog.since(room, 2)).toEqual({ gap: false, epoch, seq: 6, events: sent.slice(2).map((d) => logged('room:updated', d)) });
      expect(await replayLog.since(room, 0, epoch)).toEqual({ gap: false, epoch, seq: 6, events: sent.map((d) => logged('room:updated', d)) });
      expect(await replayLog.since(room, 5, epoch)).toEqual({ gap: false, epoch, seq: 6, events: [logged('room:updated', sent[5]!)] });
      expect(await replayLog.since(room, 6, epoch)).toEqual({ gap: false, epoch, seq: 6, events: [] });
    });

    it('has nothing to replay, and no gap, for a room without events', async () => {
      const { replayLog } = await start();
      expect(await replayLog.since(randomUUID(), 0)).toEqual({ gap: false, events: [], epoch: expect.any(String), seq: 0 });
    });

    it('reports a gap once the log no longer reaches back (more than maxEvents since lastSeq)', async () => {
      const { broadcaster, replayLog } = await start({ maxEvents: 10 });
      const room = randomUUID();
      for (let i = 0; i < 25; i++) await publishName(broadcaster, room, `e${i}`);
      const fromEdge = await replayLog.since(room, 15);
      expect(fromEdge.gap).toBe(false);
      expect(fromEdge.gap ? [] : seqsOf(fromEdge.events)).toEqual(range(16, 25));
      expect(await replayLog.since(room, 14)).toMatchObject({ gap: true, seq: 25 });
      expect(await replayLog.since(room, 0)).toMatchObject({ gap: true, seq: 25 });
    });

    it('reports a gap when the client is ahead of the room (lastSeq beyond the current seq)', async () => {
      const { broadcaster, replayLog } = await start();
      const room = randomUUID();
      for (let i = 0; i < 3; i++) await publishName(broadcaster, room, `e${i}`);
      expect(await replayLog.since(room, 4)).toMatchObject({ gap: true, seq: 3 });
      expect(await replayLog.since(room, 99)).toMatchObject({ gap: true, seq: 3 });
      expect(await replayLog.since(randomUUID(), 1)).toMatchObject({ gap: true, seq: 0 });
    });

    it('forgets events that outlived the TTL but keeps counting: later events replay, older ones are a gap', async () => {
      const ttlSeconds = 60;
      const { broadcaster, replayLog, outliveTtl } = await start({ ttlSeconds });
      const room = randomUUID();
      await publishName(broadcaster, room, 'old-1');
      await publishName(broadcaster, room, 'old-2');
      await expect(replayLog.since(room, 0)).resolves.toMatchObject({ gap: false, seq: 2 });
      await outliveTtl(room);

      expect(await replayLog.since(room, 0)).toMatchObject({ gap: true, seq: 2 });
      expect(await replayLog.since(room, 1)).toMatchObject({ gap: true, seq: 2 });
      const before = await replayLog.head(room);
      expect(before.seq).toBe(2);
      const fresh = await publishName(broadcaster, room, 'new');
      // The log expired, the counter did not: same epoch, the count goes on.
      expect(fresh).toMatchObject({ epoch: before.epoch, seq: 3 });
      expect(await replayLog.since(room, 2, before.epoch)).toEqual({ gap: false, epoch: before.epoch, seq: 3, events: [logged('room:updated', fresh)] });
      expect(await replayLog.since(room, 1)).toMatchObject({ gap: true, seq: 3 });
    });

    it('gives 200 concurrent publishes to one room unique consecutive seqs, loses none and delivers them in order', async () => {
      const { broadcaster, otherPublishers, replayLog, deliveries } = await start({ maxEvents: 1000 });
      const publishers = [broadcaster, ...otherPublishers];
      const room = randomUUID();
      const sent = await Promise.all(range(1, 200).map((i) => publishName(publishers[i % publishers.length]!, room, `c${i}`)));
      expect(sent.map((e) => e.seq).sort((x, y) => x - y)).toEqual(range(1, 200));
      expect((await replayLog.head(room)).seq).toBe(200);

      await deliveries.untilCount(room, 200);
      const delivered = deliveries.of(room);
      expect(seqsOf(delivered)).toEqual(range(1, 200));
      const bySeq = new Map(sent.map((e) => [e.seq, e]));
      expect(delivered.map((d) => d.data)).toEqual(range(1, 200).map((s) => bySeq.get(s)));

      const replay = await replayLog.since(room, 0);
      expect(replay.gap).toBe(false);
      expect(replay.gap ? [] : replay.events.map((e) => e.data)).toEqual(delivered.map((d) => d.data));
    });

    it('keeps concurrent rooms independent: each gets its own 1..n', async () => {
      const { broadcaster, otherPublishers, replayLog } = await start();
      const publishers = [broadcaster, ...otherPublishers];
      const rooms = [randomUUID(), randomUUID(), randomUUID()];
      const sent = await Promise.all(range(0, 149).map((i) => publishName(publishers[i % publishers.length]!, rooms[i % 3]!, `c${i}`)));
      for (const room of rooms) {
        expect(sent.filter((e) => e.roomId === room).map((e) => e.seq).sort((x, y) => x - y)).toEqual(range(1, 50));
        expect((await replayLog.head(room)).seq).toBe(50);
      }
    });

    it('keeps one epoch per room stream: head() before the first event and every event name it; another room has its own', async () => {
      const { broadcaster, replayLog } = await start();
      const [a, b] = [randomUUID(), randomUUID()];
      const before = await replayLog.head(a);
      expect(before).toEqual({ epoch: expect.any(String), seq: 0 });
      const sent = [await publishName(broadcaster, a, 'x'), await publishName(broadcaster, a, 'y')];
      expect(sent.map((e) => e.epoch)).toEqual([before.epoch, before.epoch]);
      expect(await replayLog.head(a)).toEqual({ epoch: before.epoch, seq: 2 });
      expect((await publishName(broadcaster, b, 'z')).epoch).not.toBe(before.epoch);
    });

    it('reports a gap for a replay from an epoch that is not the room’s', async () => {
      const { broadcaster, replayLog } = await start();
      const room = randomUUID();
      const [first] = [await publishName(broadcaster, room, 'x'), await publishName(broadcaster, room, 'y')];
      expect(await replayLog.since(room, 0, 'some-other-epoch')).toEqual({ gap: true, epoch: first!.epoch, seq: 2 });
      expect(await replayLog.since(room, 1, first!.epoch)).toMatchObject({ gap: false, seq: 2 });
    });

    it('never takes a seq back: once the store lost its counters, a room counts from 1 on a new epoch, and a replay from the old one is a gap', async () => {
      const s = await start();
      const room = randomUUID();
      const old: RoomEvent[] = [];
      for (let i = 0; i < 5; i++) old.push(await publishName(s.broadcaster, room, `old-${i}`));
      const oldEpoch = old[0]!.epoch;
      expect(await s.replayLog.since(room, 2, oldEpoch)).toMatchObject({ gap: false, seq: 5 });

      const { broadcaster, replayLog } = await s.restartEmpty();
      const head = await replayLog.head(room);
      expect(head.seq).toBe(0);
      expect(head.epoch).not.toBe(oldEpoch);
      const next = [await publishName(broadcaster, room, 'new-0'), await publishName(broadcaster, room, 'new-1')];
      expect(next.map((e) => [e.epoch, e.seq])).toEqual([
        [head.epoch, 1],
        [head.epoch, 2],
      ]);
      // Seqs the new epoch has reached again mean other events in the old one.
      expect(await replayLog.since(room, 0, oldEpoch)).toEqual({ gap: true, epoch: head.epoch, seq: 2 });
      expect(await replayLog.since(room, 1, oldEpoch)).toEqual({ gap: true, epoch: head.epoch, seq: 2 });
      expect(await replayLog.since(room, 0, head.epoch)).toEqual({ gap: false, epoch: head.epoch, seq: 2, events: next.map((e) => logged('room:updated', e)) });
    });

    it('delivers the events of a new epoch, in order, though their seqs were delivered before', async () => {
      const s = await start();
      const room = randomUUID();
      for (let i = 0; i < 4; i++) await publishName(s.broadcaster, room, `old-${i}`);
      await s.deliveries.untilCount(room, 4);
      const { broadcaster, otherPublishers } = await s.restartEmpty();
      const publishers = [broadcaster, ...otherPublishers];
      const fresh: RoomEvent[] = [];
      for (let i = 0; i < 6; i++) fresh.push(await publishName(publishers[i % publishers.length]!, room, `new-${i}`));
      await s.deliveries.untilCount(room, 10);
      expect(s.deliveries.of(room).slice(4).map((d) => d.data)).toEqual(fresh);
      expect(seqsOf(s.deliveries.of(room))).toEqual([1, 2, 3, 4, 1, 2, 3, 4, 5, 6]);
    });
  });
}
