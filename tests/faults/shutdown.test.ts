import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PantheonClient } from '../../src/client';
import type { RoomEvent } from '../../src/contract/events';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai';
import { createTestDatabase, uniqueRedisPrefix } from '../helpers/services';
import { TestClient } from '../helpers/socket-client';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy';
import { startTestApp, type TestApp } from '../helpers/test-app';
import { answerAs, eventsOf, fakeModelsEnv, send, setupRoom, turnEnd } from '../helpers/turn-kit';

// A node stopped (SIGTERM) while one of its turns streams, on two nodes behind a load balancer:
// the turn's last events reach that node's clients before their sockets close; the other node's
// clients see nothing change; the SDK reconnects through the balancer to the live node and
// catches up with what it missed.
describe('shutdown that clients survive', () => {
  let fake: FakeOpenAI;
  let a: TestApp;
  let b: TestApp;
  let lb: TcpProxy;
  let aUp = true;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    const redisKeyPrefix = uniqueRedisPrefix();
    const env = fakeModelsEnv(fake, { SHUTDOWN_GRACE_MS: '20000' });
    // The database outlives node A (a test app drops only a database it created itself).
    db = await createTestDatabase();
    a = await startTestApp({ db: 'postgres', redis: true, redisKeyPrefix, env, databaseUrl: db.url });
    b = await startTestApp({ db: 'postgres', redis: true, redisKeyPrefix, env, databaseUrl: db.url });
    lb = await startTcpProxy(() => (aUp ? [a.port, b.port] : [b.port]));
  });
  afterAll(async () => {
    await lb?.close();
    await b?.close();
    if (aUp) await a?.close();
    await fake?.close();
    await db?.drop();
  });

  it('delivers the final events, leaves the other node alone, and the SDK resumes on the live node', async () => {
    const chunks = Array.from({ length: 40 }, (_, i) => ({ text: `w${i} `, delayMs: 15 }));
    fake.setResponder(answerAs({ Writer: () => ({ text: chunks }) }));
    const r = await setupRoom(a, { mode: 'manual', agents: [{ key: 'writer', name: 'Writer' }] });

    // The SDK through the balancer (it lands on node A), and a plain client on node B.
    const sdk = new PantheonClient(lb.url, { token: r.owner, socket: { reconnectionDelay: 50, reconnectionDelayMax: 200 } });
    const sdkEvents: { event: string; data: RoomEvent }[] = [];
    const sdkDisconnects: string[] = [];
    sdk.socket.on('disconnect', (reason) => sdkDisconnects.push(`${reason}@${sdkEvents.length}`));
    for (const ev of ['agent:delta', 'agent:end', 'turn:end', 'message:created'] as const) {
      sdk.on(ev, (data: unknown) => sdkEvents.push({ event: ev, data: data as RoomEvent }));
    }
    await sdk.join(r.roomId);
    const onB = new TestClient(b.url, r.owner);
    await onB.connected();
    let bDisconnected = false;
    onB.socket.on('disconnect', () => (bDisconnected = true));
    expect((await onB.request('room:join', { roomId: r.roomId })).ok).toBe(true);

    try {
      // The turn runs on node A (it took the message), streaming.
      const ack = await send(r.client, r.roomId, r.sessionId, '@writer go');
      await r.client.until(() => eventsOf(r.client, ack.turnId, 'agent:delta').length >= 2, 'the turn streaming on A');

      // SIGTERM on node A: the app's close is what main runs on the signal.
      const closing = a.close();
      await closing;
      aUp = false;

      // A's clients got the turn's last events before their connection closed.
      const ends = r.client.received.filter((e) => e.event === 'turn:end' && e.data.turnId === ack.turnId);
      expect(ends.map((e) => e.data.status)).toEqual(['completed']);
      expect(eventsOf(r.client, ack.turnId, 'agent:end')).toHaveLength(1);
      const sdkEnd = sdkEvents.findIndex((e) => e.event === 'turn:end' && (e.data as RoomEvent<'turn:end'>).turnId === ack.turnId);
      expect(sdkEnd).toBeGreaterThanOrEqual(0);
      // …and before the SDK's first disconnect.
      expect(sdkDisconnects.length).toBeGreaterThanOrEqual(1);
      expect(Number(sdkDisconnects[0]!.split('@')[1])).toBeGreaterThan(sdkEnd);

      // Node B's client saw the same end and stayed connected throughout.
      await onB.until(() => eventsOf(onB, ack.turnId, 'turn:end').length === 1, 'turn:end on B');
      expect(bDisconnected).toBe(false);
      expect(onB.socket.connected).toBe(true);

      // The SDK reconnects through the balancer to B by itself, rejoins, and gets what follows.
      await new Promise<void>((resolve) => (sdk.socket.connected ? resolve() : sdk.socket.once('connect', () => resolve())));
      fake.setResponder(answerAs({ Writer: () => ({ text: 'after the restart' }) }));
      const next = await send(onB, r.roomId, r.sessionId, '@writer again');
      await turnEnd(onB, next.turnId);
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the SDK did not catch up')), 20_000);
        const check = () => {
          if (sdkEvents.some((e) => e.event === 'turn:end' && (e.data as RoomEvent<'turn:end'>).turnId === next.turnId)) {
            clearTimeout(timer);
            resolve();
          } else setTimeout(check, 20);
        };
        check();
      });
      // Every event once, in order: the SDK's seqs strictly rise.
      const seqs = sdkEvents.map((e) => e.data.seq);
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      expect(new Set(seqs).size).toBe(seqs.length);
      const text = sdkEvents
        .filter((e) => e.event === 'agent:delta' && (e.data as RoomEvent<'agent:delta'>).turnId === next.turnId)
        .map((e) => (e.data as RoomEvent<'agent:delta'>).text)
        .join('');
      expect(text).toBe('after the restart');
    } finally {
      sdk.close();
      onB.close();
      r.client.close();
    }
  }, 90_000);
});
