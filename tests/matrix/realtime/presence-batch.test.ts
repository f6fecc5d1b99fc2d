import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClient } from '../../helpers/socket-client';
import { startTestApp, testDb, type TestApp } from '../../helpers/test-app';

// Presence changes close together go out as one `presence:batch`: a burst of joins costs the room
// fewer events than joins, and every client still ends with the right set of users online.
describe(`presence batching on ${testDb()}`, () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app?.close());

  /** Who a client has online: its snapshot's page, then every presence change after its seq. */
  const onlineOf = (c: TestClient, roomId: string, ack: any): Set<string> => {
    const online = new Set<string>(ack.snapshot.membersOnline.map((m: { userId: string }) => m.userId));
    for (const e of c.roomEvents(roomId, 'presence')) {
      if (e.data.seq <= ack.seq) continue;
      if (e.data.state === 'joined') online.add(e.data.userId);
      else online.delete(e.data.userId);
    }
    return online;
  };

  it('publishes a burst of joins in fewer events than joins, and every client ends with everyone online', async () => {
    const owner = app.token('batch-owner', { name: 'Owner' });
    const roomId = (await app.api(owner, 'POST', '/rooms', { name: 'Burst' })).body.id as string;
    const n = 30;
    const tokens = Array.from({ length: n }, (_, i) => app.token(`batch-${i}`, { name: `B${i}` }));
    const ids: string[] = [];
    for (const t of tokens) {
      const id = (await app.api(t, 'GET', '/auth/me')).body.user.id as string;
      ids.push(id);
      expect((await app.api(owner, 'POST', `/rooms/${roomId}/members`, { userId: id, role: 'member' })).status).toBe(201);
    }
    const ownerId = (await app.api(owner, 'GET', '/auth/me')).body.user.id as string;
    const observer = new TestClient(app.url, owner);
    const clients = tokens.map((t) => new TestClient(app.url, t));
    try {
      await observer.connected();
      const observerAck = await observer.request('room:join', { roomId });
      expect(observerAck.ok).toBe(true);
      await Promise.all(clients.map((c) => c.connected()));
      const acks = await Promise.all(clients.map((c) => c.request('room:join', { roomId })));
      for (const a of acks) expect(a.ok).toBe(true);

      const everyone = new Set([ownerId, ...ids]);
      const hasEveryone = (c: TestClient, ack: any) => () => {
        const online = onlineOf(c, roomId, ack);
        return online.size === everyone.size && [...everyone].every((id) => online.has(id));
      };
      await observer.until(hasEveryone(observer, observerAck), 'everyone online at the observer');
      await Promise.all(clients.map((c, i) => c.until(hasEveryone(c, acks[i]), `everyone online at client ${i}`)));

      // The observer heard every join, in fewer events than joins (some of them batches).
      const raw = observer.roomEvents(roomId).filter((e) => (e.event === 'presence' || e.event === 'presence:batch') && e.data.seq > observerAck.seq);
      expect(raw.length).toBeLessThan(n);
      expect(raw.some((e) => e.event === 'presence:batch')).toBe(true);
      const batch = raw.find((e) => e.event === 'presence:batch')!;
      expect(batch.data.changes.length).toBeGreaterThan(1);

      // Half of them leave at once: every remaining client ends with the rest online.
      const leaving = clients.slice(0, n / 2);
      for (const c of leaving) c.close();
      const staying = new Set([ownerId, ...ids.slice(n / 2)]);
      const hasStaying = (c: TestClient, ack: any) => () => {
        const online = onlineOf(c, roomId, ack);
        return online.size === staying.size && [...staying].every((id) => online.has(id));
      };
      await observer.until(hasStaying(observer, observerAck), 'the rest online at the observer');
      await Promise.all(clients.slice(n / 2).map((c, i) => c.until(hasStaying(c, acks[n / 2 + i]), `the rest online at client ${n / 2 + i}`)));
    } finally {
      for (const c of clients) c.close();
      observer.close();
    }
  });

  it('announces the first change in a quiet room as a plain presence event, at once', async () => {
    const owner = app.token('quiet-owner', { name: 'Owner' });
    const roomId = (await app.api(owner, 'POST', '/rooms', { name: 'Quiet' })).body.id as string;
    const observer = new TestClient(app.url, owner);
    try {
      await observer.connected();
      expect((await observer.request('room:join', { roomId })).ok).toBe(true);
      // The observer's own join is the room's first change: a `presence`, not a batch.
      await observer.until(() => observer.roomEvents(roomId, 'presence').length > 0, 'own presence');
      const first = observer.roomEvents(roomId).find((e) => e.event.startsWith('presence'))!;
      expect(first.event).toBe('presence');
      expect(first.data.state).toBe('joined');
    } finally {
      observer.close();
    }
  });
});
