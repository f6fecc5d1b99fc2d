import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppSocket } from '../../../src/realtime/context';
import { TestClient } from '../../helpers/socket-client';
import { startTestApp, testDb, type TestApp } from '../../helpers/test-app';

// What a connected, joined socket keeps on the server: shared listeners, no closure of its own per
// event (the per-socket heap figure of docs/benchmarks.md), and nothing left from its joins.
describe(`what a joined socket keeps on ${testDb()}`, () => {
  let app: TestApp;
  let roomId: string;
  const tokens: string[] = [];
  beforeAll(async () => {
    app = await startTestApp();
    tokens.push(app.token('footprint-a', { name: 'Ann' }), app.token('footprint-b', { name: 'Bo' }));
    roomId = (await app.api(tokens[0]!, 'POST', '/rooms', { name: 'Footprint' })).body.id;
    await app.api(tokens[0]!, 'POST', `/rooms/${roomId}/members`, { sub: 'footprint-b' });
  });
  afterAll(() => app?.close());

  it('shares one event listener and one disconnect listener among all sockets, and still answers events', async () => {
    const clients = tokens.map((t) => new TestClient(app.url, t));
    try {
      for (const c of clients) {
        await c.connected();
        expect((await c.request('room:join', { roomId })).ok).toBe(true);
      }
      const sockets = [...app.realtime.io.of('/').sockets.values()] as AppSocket[];
      expect(sockets).toHaveLength(2);
      for (const s of sockets) {
        // ('error' is Socket.IO's own no-op listener.)
        expect(s.eventNames().filter((e) => e !== 'error')).toEqual(['disconnect']);
        expect(s.listeners('disconnect')).toHaveLength(1);
        expect(s.listenersAny()).toHaveLength(1);
      }
      const [a, b] = sockets;
      expect(a!.listenersAny()[0]).toBe(b!.listenersAny()[0]);
      expect(a!.listeners('disconnect')[0]).toBe(b!.listeners('disconnect')[0]);
      expect(a!.data.rooms).toEqual(new Set([roomId]));
      // Events of the table and unknown ones are both still answered.
      expect(await clients[0]!.request('room:join', { roomId })).toMatchObject({ ok: false, error: { code: 'ALREADY_JOINED' } });
      expect(await clients[0]!.request('no-such-event', {})).toMatchObject({ ok: false, error: { code: 'UNKNOWN_EVENT' } });
    } finally {
      for (const c of clients) c.close();
    }
  });
});
