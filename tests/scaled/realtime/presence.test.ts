import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueRedisPrefix } from '../../helpers/services';
import { TestClient } from '../../helpers/socket-client';
import { startTestApp, type TestApp } from '../../helpers/test-app';

// Presence counted across nodes: a user with a socket on each node is announced once, and leaves
// only with their last socket.
describe('presence across two nodes', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    const redisKeyPrefix = uniqueRedisPrefix();
    a = await startTestApp({ db: 'postgres', redis: true, redisKeyPrefix });
    b = await startTestApp({ db: 'postgres', redis: true, redisKeyPrefix, databaseUrl: a.databaseUrl });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('announces joined for the first socket and left for the last, whichever node holds them', async () => {
    const owner = a.token('presence-owner', { name: 'Owner' });
    const room = await a.api(owner, 'POST', '/rooms', { name: 'Presence' });
    expect((await a.api(owner, 'POST', `/rooms/${room.body.id}/members`, { sub: 'two-tabs', role: 'member' })).status).toBe(201);
    const roomId = room.body.id as string;
    const observer = new TestClient(a.url, owner);
    const tabs = [new TestClient(a.url, a.token('two-tabs', { name: 'Tabs' })), new TestClient(b.url, b.token('two-tabs', { name: 'Tabs' }))];
    try {
      await observer.connected();
      expect((await observer.request('room:join', { roomId })).ok).toBe(true);
      for (const t of tabs) {
        await t.connected();
        expect((await t.request('room:join', { roomId })).ok).toBe(true);
      }
      tabs[0]!.close();
      // A marker published after the first tab's leave: anything announced for it came before.
      expect((await b.api(owner, 'PATCH', `/rooms/${roomId}`, { name: 'marker' })).status).toBe(200);
      await observer.until(() => observer.roomEvents(roomId, 'room:updated').some((e) => e.data.name === 'marker'), 'the marker');
      tabs[1]!.close();
      await observer.until(() => observer.roomEvents(roomId, 'presence').some((e) => e.data.displayName === 'Tabs' && e.data.state === 'left'), 'left');
      const states = observer.roomEvents(roomId, 'presence').filter((e) => e.data.displayName === 'Tabs').map((e) => e.data.state);
      expect(states).toEqual(['joined', 'left']);
    } finally {
      for (const t of tabs) t.close();
      observer.close();
    }
  });
});
