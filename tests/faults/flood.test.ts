import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai';
import { TestClient, tryConnect } from '../helpers/socket-client';
import { startTestApp, type TestApp } from '../helpers/test-app';
import { answerAs, eventsOf, fakeModelsEnv, send, setupRoom, streamedText, turnEnd } from '../helpers/turn-kit';

// One member cannot take the node down: floods of events, of invalid events and of sockets are
// refused or dropped, while another member's stream and REST calls go on. Counts and codes only.
describe('a member flooding the socket layer', () => {
  let fake: FakeOpenAI;
  let app: TestApp;
  beforeAll(async () => {
    fake = await startFakeOpenAI();
    app = await startTestApp({ env: fakeModelsEnv(fake) });
  });
  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });

  /** Emits `n` events as fast as the socket takes them and collects every ack. */
  const burst = (c: TestClient, n: number, event: string, payload: unknown) =>
    Promise.all(
      Array.from(
        { length: n },
        () =>
          new Promise<any>((resolve) => {
            (c.socket as any).timeout(30_000).emit(event, payload, (err: Error | null, ack: any) => resolve(err ? { timeout: true } : ack));
          }),
      ),
    );

  it('refuses a burst of 1,000 events past the budget with RATE_LIMITED and retryAfterSeconds', async () => {
    const r = await setupRoom(app, { mode: 'manual', agents: [] });
    try {
      const started = Date.now();
      const acks = await burst(r.client, 1000, 'room:join', { roomId: r.roomId });
      const seconds = Math.ceil((Date.now() - started) / 1000) + 1;
      const limited = acks.filter((a) => a?.error?.code === 'RATE_LIMITED');
      // At most the per-socket budget (20 a second by default) went through in each second.
      expect(acks.length - limited.length).toBeLessThanOrEqual(20 * seconds);
      expect(limited.length).toBeGreaterThanOrEqual(1000 - 20 * seconds);
      for (const a of limited) expect(a.error.details.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(acks.filter((a) => a?.timeout)).toEqual([]);
    } finally {
      r.client.close();
    }
  });

  it('announces a user once however often their sockets join: re-joins are refused cheaply, other tabs are not announced', async () => {
    const r = await setupRoom(app, { mode: 'manual', agents: [] });
    const flooderToken = app.token('rejoiner', { name: 'Rejoiner' });
    const member = await app.api(r.owner, 'POST', `/rooms/${r.roomId}/members`, { sub: 'rejoiner', role: 'member' });
    expect(member.status).toBe(201);
    const tabs = [new TestClient(app.url, flooderToken), new TestClient(app.url, flooderToken), new TestClient(app.url, flooderToken)];
    try {
      for (const t of tabs) await t.connected();
      // Three tabs join; then one of them floods joins of the room it is in, 300 times, paced
      // under the event budget so the joins themselves are answered.
      for (const t of tabs) expect((await t.request('room:join', { roomId: r.roomId })).ok).toBe(true);
      const acks: any[] = [];
      for (let i = 0; i < 300; i += 15) acks.push(...(await burst(tabs[0]!, 15, 'room:join', { roomId: r.roomId })));
      const codes = new Set(acks.map((a) => a?.error?.code));
      expect([...codes].every((c) => c === 'ALREADY_JOINED' || c === 'RATE_LIMITED')).toBe(true);
      expect(acks.filter((a) => a?.error?.code === 'ALREADY_JOINED').length).toBeGreaterThan(0);
      // The user is announced once (in a batch when it came within PRESENCE_BATCH_MS of another change).
      await r.client.until(
        () => r.client.roomEvents(r.roomId, 'presence').some((e) => e.data.state === 'joined' && e.data.displayName === 'Rejoiner'),
        'the user announced',
      );
      // Two tabs leave: the user is still present through the third, so nothing is announced.
      for (const t of tabs.slice(0, 2)) t.close();
      const marker = await app.api(r.owner, 'PATCH', `/rooms/${r.roomId}`, { name: 'after the tabs' });
      expect(marker.status).toBe(200);
      await r.client.until(() => r.client.roomEvents(r.roomId, 'room:updated').some((e) => e.data.name === 'after the tabs'), 'the marker');
      tabs[2]!.close();
      await r.client.until(
        () => r.client.roomEvents(r.roomId, 'presence').some((e) => e.data.state === 'left' && e.data.displayName === 'Rejoiner'),
        'the last tab leaving',
      );
      const presence = r.client.roomEvents(r.roomId, 'presence').filter((e) => e.data.displayName === 'Rejoiner');
      expect(presence.map((e) => e.data.state)).toEqual(['joined', 'left']);
    } finally {
      for (const t of tabs) t.close();
      r.client.close();
    }
  });

  it('drops a socket that sends a run of invalid events, and another member is served meanwhile', async () => {
    const flooder = new TestClient(app.url, app.token('flooder'));
    await flooder.connected();
    const dropped = new Promise<{ code: string }>((resolve) => flooder.socket.once('socket:dropped' as never, resolve as never));
    const disconnected = new Promise<string>((resolve) => flooder.socket.once('disconnect', resolve));
    // 10,000 invalid events (unknown names and bad payloads, mixed), fired without waiting.
    for (let i = 0; i < 10_000; i++) {
      if (i % 2) (flooder.socket as any).emit(`no-such-event-${i}`, { i });
      else (flooder.socket as any).emit('room:join', { roomId: 'not-a-uuid', i });
    }
    expect((await dropped).code).toBe('TOO_MANY_INVALID_EVENTS');
    expect(await disconnected).toBe('io server disconnect');

    const victim = app.token('victim-rest');
    const res = await app.api(victim, 'GET', '/rooms');
    expect(res.status).toBe(200);
  });

  it('refuses sockets of one user past the cap with TOO_MANY_CONNECTIONS, and takes new ones once some close', async () => {
    const token = app.token('many-sockets');
    const sockets: Socket[] = [];
    const outcomes = await Promise.all(
      Array.from(
        { length: 300 },
        () =>
          new Promise<string>((resolve) => {
            const s = io(app.url, { transports: ['websocket'], auth: { token }, reconnection: false, forceNew: true });
            sockets.push(s);
            s.once('connect', () => resolve('connected'));
            s.once('connect_error', (err: Error & { data?: { code?: string } }) => resolve(err.data?.code ?? err.message));
          }),
      ),
    );
    try {
      expect(outcomes.filter((o) => o === 'connected')).toHaveLength(20);
      expect(outcomes.filter((o) => o === 'TOO_MANY_CONNECTIONS')).toHaveLength(280);
      // Closing five makes room for five.
      const open = sockets.filter((s) => s.connected);
      const gone = open.slice(0, 5).map((s) => new Promise<void>((resolve) => {
        s.once('disconnect', () => resolve());
        s.disconnect();
      }));
      await Promise.all(gone);
      // The server sees the disconnects a moment after the clients do: wait until a connect passes.
      let again: unknown;
      for (let i = 0; i < 50 && again !== 'connected'; i++) {
        again = await tryConnect(app.url, token);
        if (again !== 'connected') await new Promise((r) => setTimeout(r, 20));
      }
      expect(again).toBe('connected');
    } finally {
      for (const s of sockets) s.disconnect();
    }
  });

  it('keeps every frame of another member’s stream while a member floods', async () => {
    const chunks = Array.from({ length: 60 }, (_, i) => ({ text: `t${i} `, delayMs: 5 }));
    fake.setResponder(answerAs({ Writer: () => ({ text: chunks }) }));
    const r = await setupRoom(app, { mode: 'manual', agents: [{ key: 'writer', name: 'Writer' }] });
    const flooder = new TestClient(app.url, app.token('flooder-2'));
    await flooder.connected();
    try {
      const ack = await send(r.client, r.roomId, r.sessionId, '@writer go');
      const flood = burst(flooder, 2000, 'room:leave', { roomId: r.roomId });
      await turnEnd(r.client, ack.turnId, 60_000);
      await flood;
      expect(streamedText(r.client, ack.turnId)).toEqual({ writer: chunks.map((c) => c.text).join('') });
      const seqs = r.client.seqs(r.roomId);
      for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe(seqs[i - 1]! + 1);
      expect(eventsOf(r.client, ack.turnId, 'turn:end')).toHaveLength(1);
    } finally {
      flooder.close();
      r.client.close();
    }
  });
});
