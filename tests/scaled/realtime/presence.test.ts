import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClient } from '../../helpers/socket-client';
import { startTwoNodes, type TestApp } from '../../helpers/test-app';

// Presence counted across nodes: a user with a socket on each node is announced once, and leaves
// only with their last socket.
describe('presence across two nodes', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    ({ a, b } = await startTwoNodes());
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
      // The join is announced once, in a batch when it came within PRESENCE_BATCH_MS of another change.
      await observer.until(() => observer.roomEvents(roomId, 'presence').some((e) => e.data.displayName === 'Tabs' && e.data.state === 'joined'), 'joined');
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

  it("a join's snapshot counts everyone online and lists a first page with roles, without asking the nodes for their sockets", async () => {
    const owner = a.token('page-owner', { name: 'Owner' });
    const room = await a.api(owner, 'POST', '/rooms', { name: 'Crowd' });
    const roomId = room.body.id as string;
    const n = 55;
    const subs = Array.from({ length: n }, (_, i) => `crowd-${i}`);
    for (const sub of subs) expect((await a.api(owner, 'POST', `/rooms/${roomId}/members`, { sub, role: 'member' })).status).toBe(201);
    const fetches = [a, b].map((app) => {
      const adapter = app.realtime.io.of('/').adapter as unknown as { fetchSockets(...args: unknown[]): Promise<unknown[]> };
      const original = adapter.fetchSockets.bind(adapter);
      const calls = { n: 0 };
      adapter.fetchSockets = (...args) => (calls.n++, original(...args));
      return calls;
    });
    const clients: TestClient[] = [];
    try {
      // Every user on one node or the other; the first also with a second tab on the other node.
      for (const [k, sub] of subs.entries()) {
        const app = k % 2 ? b : a;
        const c = new TestClient(app.url, app.token(sub, { name: `Crowd ${k}` }));
        clients.push(c);
        await c.connected();
        expect((await c.request('room:join', { roomId })).ok).toBe(true);
      }
      const tab = new TestClient(b.url, b.token(subs[0]!, { name: 'Crowd 0' }));
      clients.push(tab);
      await tab.connected();
      expect((await tab.request('room:join', { roomId })).ok).toBe(true);
      // Presence is counted after each join's ack: the owner waits for the last one's announcement.
      const watcher = new TestClient(a.url, owner);
      clients.push(watcher);
      await watcher.connected();
      let ack = await watcher.request('room:join', { roomId });
      for (let tries = 0; ack.snapshot.membersOnlineCount < n && tries < 50; tries++) {
        expect((await watcher.request('room:leave', { roomId })).ok).toBe(true);
        ack = await watcher.request('room:join', { roomId });
      }
      expect(ack.snapshot.membersOnlineCount).toBe(n);
      const listed = ack.snapshot.membersOnline as { userId: string; displayName: string; role: string }[];
      expect(listed).toHaveLength(50);
      expect(new Set(listed.map((m) => m.userId)).size).toBe(50);
      for (const m of listed) expect([m.role, m.displayName]).toEqual(['member', expect.stringMatching(/^Crowd \d+$/)]);
      expect(fetches.map((f) => f.n)).toEqual([0, 0]);
    } finally {
      for (const c of clients) c.close();
    }
  });
});
