import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PantheonClient, type RoomEvent } from '../../../src/client';
import { startTestApp, testDb, type TestApp } from '../../helpers/test-app';

describe(`client SDK on ${testDb()}`, () => {
  let app: TestApp;
  let token: string;
  let roomId: string;
  beforeAll(async () => {
    app = await startTestApp({ env: { REPLAY_LOG_MAX_EVENTS: '50' } });
    token = app.token('sdk-user', { name: 'Sam' });
    roomId = (await app.api(token, 'POST', '/rooms', { name: 'SDK' })).body.id;
  });
  afterAll(() => app?.close());

  const publish = (n: number, tag: string) =>
    (async () => {
      for (let i = 0; i < n; i++) await app.roomEvents.broadcaster.publish(roomId, 'room:updated', { name: `${tag}-${i}` });
    })();

  const waitFor = (check: () => boolean, ms = 10_000) =>
    new Promise<void>((resolve, reject) => {
      const started = Date.now();
      const tick = () => (check() ? resolve() : Date.now() - started > ms ? reject(new Error('timed out')) : setTimeout(tick, 10));
      tick();
    });

  it('rejoins after a dropped connection and sees every event once, in order', async () => {
    const client = new PantheonClient(app.url, { token, socket: { reconnectionDelay: 50, reconnectionDelayMax: 100 } });
    const seen: RoomEvent<'room:updated'>[] = [];
    client.on('room:updated', (e) => seen.push(e));
    try {
      await new Promise<void>((resolve) => client.socket.once('connect', () => resolve()));
      const ack = await client.join(roomId);
      expect(ack.mode).toBe('snapshot');
      await publish(5, 'a');
      await waitFor(() => seen.length === 5);

      const reconnected = new Promise<void>((resolve) => client.socket.io.once('reconnect', () => resolve()));
      // The network drops; events keep coming while the client is away and while it comes back.
      client.socket.io.engine.close();
      await publish(10, 'b');
      await reconnected;
      await publish(5, 'c');
      await waitFor(() => seen.length === 20);

      expect(seen.map((e) => e.name)).toEqual([
        ...Array.from({ length: 5 }, (_, i) => `a-${i}`),
        ...Array.from({ length: 10 }, (_, i) => `b-${i}`),
        ...Array.from({ length: 5 }, (_, i) => `c-${i}`),
      ]);
      // Strictly rising (presence events of the reconnect take seqs in between).
      const seqs = seen.map((e) => e.seq);
      for (let i = 1; i < seqs.length; i++) expect(seqs[i]!).toBeGreaterThan(seqs[i - 1]!);
      expect(client.lastSeqOf(roomId)).toBeGreaterThanOrEqual(seqs.at(-1)!);
    } finally {
      client.close();
    }
  });

  it('reconnects by itself when the server ends its session (token expired), with a fresh token, and catches up', async () => {
    // A token that expires in 2 s, then fresh ones: the server drops the socket with a disconnect
    // packet, which plain socket.io-client never follows with a reconnection.
    let issued = 0;
    const client = new PantheonClient(app.url, {
      token: () => app.token('sdk-user', { name: 'Sam', expiresInSeconds: issued++ === 0 ? 2 : 3600 }),
      socket: { reconnectionDelay: 50, reconnectionDelayMax: 100 },
    });
    const seen: RoomEvent<'room:updated'>[] = [];
    client.on('room:updated', (e) => seen.push(e));
    const reasons: string[] = [];
    client.socket.on('disconnect', (reason) => reasons.push(reason));
    try {
      await new Promise<void>((resolve) => client.socket.once('connect', () => resolve()));
      await client.join(roomId);
      const expired = new Promise<void>((resolve) => client.on('auth:expired', () => resolve()));
      await expired;
      await publish(3, 'while-away');
      await waitFor(() => client.socket.connected && seen.filter((e) => e.name?.startsWith('while-away')).length === 3);
      expect(reasons).toContain('io server disconnect');
      expect(issued).toBeGreaterThanOrEqual(2);
    } finally {
      client.close();
    }
  });

  it('surfaces server errors with their code', async () => {
    const client = new PantheonClient(app.url, { token: app.token('outsider') });
    try {
      await expect(client.join(roomId)).rejects.toMatchObject({ code: 'ROOM_NOT_FOUND' });
    } finally {
      client.close();
    }
  });
});
