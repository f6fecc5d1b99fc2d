import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClient } from '../../helpers/socket-client';
import { startTestApp, testDb, type TestApp } from '../../helpers/test-app';

// A join is answered at a position (`seq`); every event after it follows the ack on the wire, in
// replay mode as in snapshot mode, so a client can take the ack's seq as its position.
describe(`room:join ack order on ${testDb()}`, () => {
  let app: TestApp;
  let token: string;
  let roomId: string;
  beforeAll(async () => {
    app = await startTestApp();
    token = app.token('order-user', { name: 'Ola' });
    roomId = (await app.api(token, 'POST', '/rooms', { name: 'Order' })).body.id;
  });
  afterAll(() => app?.close());

  it('sends no event newer than a replay ack before that ack, while events keep coming', async () => {
    const c = new TestClient(app.url, token);
    await c.connected();
    expect((await c.request('room:join', { roomId })).ok).toBe(true);
    let running = true;
    const pump = (async () => {
      for (let i = 0; running; i++) {
        await app.roomEvents.broadcaster.publish(roomId, 'room:updated', { name: `p-${i}` });
        await sleep(1);
      }
    })();
    try {
      for (let k = 1; k <= 15; k++) {
        await c.until(() => c.seqs(roomId).length >= 4 * k, 'events flowing');
        const last = c.roomEvents(roomId).at(-1)!.data;
        const from = c.received.length;
        // Where the ack falls among the events: counted in the ack's own callback.
        const { ack, atAck } = await new Promise<{ ack: any; atAck: number }>((resolve, reject) =>
          (c.socket as any).timeout(10_000).emit('room:join', { roomId, lastSeq: last.seq - 2, epoch: last.epoch }, (err: Error | null, a: any) =>
            err ? reject(err) : resolve({ ack: a, atAck: c.received.length }),
          ),
        );
        expect(ack).toMatchObject({ ok: true, mode: 'replay' });
        const beforeAck = c.received.slice(from, atAck).filter((r) => r.data?.roomId === roomId && typeof r.data.seq === 'number');
        expect(beforeAck.map((r) => r.data.seq).filter((s) => s > ack.seq), JSON.stringify({ k, last: last.seq, ack, before: beforeAck.map((r) => r.event + ":" + r.data.seq) })).toEqual([]);
      }
      // After the ack the stream goes on from the ack's seq, each event once.
      const seqs = c.seqs(roomId);
      await c.until(() => c.seqs(roomId).length > seqs.length + 3, 'events after the last ack');
    } finally {
      running = false;
      await pump;
      c.close();
    }
  });

  it('announces a user who rejoins from a new connection (presence) after the replay ack, not before', async () => {
    const other = app.token('order-watcher', { name: 'Wat' });
    await app.api(token, 'POST', `/rooms/${roomId}/members`, { sub: 'order-watcher' });
    const w = new TestClient(app.url, other);
    await w.connected();
    expect((await w.request('room:join', { roomId })).ok).toBe(true);
    let last: { seq: number; epoch: string } | undefined;
    for (let k = 0; k < 5; k++) {
      const c = new TestClient(app.url, token);
      await c.connected();
      const ask = last ? { roomId, lastSeq: last.seq, epoch: last.epoch } : { roomId };
      const { ack, atAck } = await new Promise<{ ack: any; atAck: number }>((resolve, reject) =>
        (c.socket as any).timeout(10_000).emit('room:join', ask, (err: Error | null, a: any) => (err ? reject(err) : resolve({ ack: a, atAck: c.received.length }))),
      );
      expect(ack.ok).toBe(true);
      if (last) expect(ack.mode).toBe('replay');
      // The presence of this user's (re)join is an event after the ack's seq: it must follow the ack.
      await c.until(() => c.roomEvents(roomId, 'presence').some((e) => e.data.state === 'joined' && e.data.seq > ack.seq), 'own presence');
      const early = c.received.slice(0, atAck).filter((r) => r.data?.roomId === roomId && typeof r.data.seq === 'number' && r.data.seq > ack.seq);
      expect(early.map((r) => `${r.event}:${r.data.seq}`)).toEqual([]);
      last = { seq: c.seqs(roomId).at(-1) ?? ack.seq, epoch: ack.epoch };
      // Leaving as the user's last socket announces `left` (seen by the watcher) before the next round.
      const lefts = w.roomEvents(roomId, 'presence').filter((e) => e.data.state === 'left').length;
      c.close();
      await w.until(() => w.roomEvents(roomId, 'presence').filter((e) => e.data.state === 'left').length > lefts, 'left');
      last = { seq: w.seqs(roomId).at(-1)!, epoch: ack.epoch };
    }
    w.close();
  });
});
