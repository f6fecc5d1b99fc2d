import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RoomEventName } from '../../src/contract/events';
import { Message, RoomMember } from '../../src/db/entities';
import { TestClient, tryConnect } from './socket-client';
import type { TestApp } from './test-app';

/**
 * The realtime transport suite. It runs against one embedded node (memory replay log) and against
 * two nodes sharing PostgreSQL and Redis; clients are spread over the nodes.
 */
export function transportSuite(name: string, start: () => Promise<TestApp[]>) {
  describe(`realtime transport: ${name}`, () => {
    let nodes: TestApp[];
    let owner: string;
    let roomId: string;
    let sessionId: string;
    const clients: TestClient[] = [];
    const node = (i: number) => nodes[i % nodes.length]!;

    const client = async (i: number, token: string) => {
      const c = new TestClient(node(i).url, token);
      clients.push(c);
      await c.connected();
      return c;
    };
    const addMember = async (sub: string) => {
      const r = await node(0).api(owner, 'POST', `/rooms/${roomId}/members`, { sub, displayName: sub });
      expect(r.status).toBe(201);
      return { token: node(0).token(sub, { name: sub }), userId: r.body.userId as string };
    };
    /** Publishes `n` room events, alternating between nodes, concurrently. */
    const burst = (n: number, tag: string, event: RoomEventName = 'room:updated') =>
      Promise.all(
        Array.from({ length: n }, (_, i) =>
          node(i).roomEvents.broadcaster.publish(roomId, event as 'room:updated', { name: `${tag}-${i}` }),
        ),
      );

    beforeAll(async () => {
      nodes = await start();
      owner = node(0).token('owner', { name: 'Owner' });
      const room = await node(0).api(owner, 'POST', '/rooms', { name: 'Transport' });
      roomId = room.body.id;
      await node(0).api(owner, 'POST', `/rooms/${roomId}/agents`, { key: 'writer', name: 'Writer' });
      sessionId = (await node(0).api(owner, 'POST', `/rooms/${roomId}/sessions`, { title: 's' })).body.id;
    });
    afterAll(async () => {
      for (const c of clients) c.close();
      for (const n of nodes ?? []) await n.close();
    });

    it('joins with a snapshot: agents, sessions, members online', async () => {
      const c = await client(0, owner);
      const ack = await c.request('room:join', { roomId });
      expect(ack.ok).toBe(true);
      expect(ack.mode).toBe('snapshot');
      expect(ack.snapshot.agents.map((a: any) => a.key)).toEqual(['writer']);
      expect(ack.snapshot.sessions.map((s: any) => s.id)).toContain(sessionId);
      expect(typeof ack.seq).toBe('number');
      const other = await addMember('snap-viewer');
      const c2 = await client(1, other.token);
      const ack2 = await c2.request('room:join', { roomId });
      expect(ack2.snapshot.membersOnline.map((m: any) => m.displayName)).toContain('Owner');
      expect(ack2.snapshot.membersOnline.find((m: any) => m.displayName === 'Owner').role).toBe('owner');
    });

    it('delivers every room event to every client once, in seq order, with no gap', async () => {
      const members = await Promise.all([addMember('m1'), addMember('m2'), addMember('m3')]);
      const cs = await Promise.all(members.map((m, i) => client(i, m.token)));
      const acks = await Promise.all(cs.map((c) => c.request('room:join', { roomId })));
      for (const a of acks) expect(a.ok).toBe(true);
      const published = await burst(60, 'order');
      const last = Math.max(...published.map((p) => p.seq));
      await Promise.all(cs.map((c) => c.until(() => c.seqs(roomId).includes(last), 'last event')));
      for (const [i, c] of cs.entries()) {
        const seqs = c.seqs(roomId).filter((s) => s > acks[i].seq);
        const expected = Array.from({ length: seqs.length }, (_, k) => acks[i].seq + 1 + k);
        expect(seqs).toEqual(expected);
        const names = c.roomEvents(roomId, 'room:updated').map((e) => e.data.name).filter((n: string) => n.startsWith('order-'));
        expect(new Set(names).size).toBe(60);
        expect(names).toHaveLength(60);
      }
    });

    it('replays exactly the missed events to a client that rejoins with lastSeq', async () => {
      const m = await addMember('dropper');
      const a = await client(0, m.token);
      const ack = await a.request('room:join', { roomId });
      await burst(5, 'before');
      await a.until(() => a.roomEvents(roomId, 'room:updated').filter((e) => e.data.name.startsWith('before-')).length === 5);
      const lastSeq = Math.max(...a.seqs(roomId));
      const { epoch } = a.roomEvents(roomId).at(-1)!.data;
      expect(lastSeq).toBeGreaterThan(ack.seq);
      expect(epoch).toBe(ack.epoch);
      a.close();

      const missed = await burst(12, 'missed');
      const b = await client(1, m.token);
      // Events keep coming while the client rejoins.
      const during = burst(8, 'during');
      const rejoin = await b.request('room:join', { roomId, lastSeq, epoch });
      await during;
      expect(rejoin.ok).toBe(true);
      expect(rejoin.mode).toBe('replay');
      const after = await burst(3, 'after');
      const lastAfter = Math.max(...after.map((p) => p.seq));
      await b.until(() => b.seqs(roomId).includes(lastAfter), 'live events after replay');
      const seqs = b.seqs(roomId);
      expect(seqs[0]).toBe(lastSeq + 1);
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, k) => lastSeq + 1 + k));
      const names = b.roomEvents(roomId, 'room:updated').map((e) => e.data.name);
      for (const p of missed) expect(names).toContain(p.name);
      expect(names.filter((n: string) => n.startsWith('missed-'))).toHaveLength(12);
      expect(names.filter((n: string) => n.startsWith('during-'))).toHaveLength(8);
    });

    it('sends the snapshot path to a client that was away too long', async () => {
      const m = await addMember('sleeper');
      const a = await client(0, m.token);
      const ack = await a.request('room:join', { roomId });
      a.close();
      const max = node(0).config.limits.replayLogMaxEvents;
      await burst(max + 15, 'flood');
      const b = await client(1, m.token);
      const rejoin = await b.request('room:join', { roomId, lastSeq: ack.seq, epoch: ack.epoch });
      expect(rejoin.ok).toBe(true);
      expect(rejoin.mode).toBe('snapshot');
      expect(rejoin.replayGap).toBe(true);
      expect(rejoin.epoch).toBe(ack.epoch);
      expect(rejoin.seq).toBeGreaterThanOrEqual(ack.seq + max + 15);
      const next = await burst(1, 'next');
      await b.until(() => b.seqs(roomId).includes(next[0]!.seq));
      expect(b.seqs(roomId)).toEqual([rejoin.seq + 1, ...b.seqs(roomId).slice(1)]);
    });

    it('answers a lastSeq of another epoch, or without one, with a snapshot rather than a replay', async () => {
      const m = await addMember('from-elsewhere');
      const a = await client(0, m.token);
      const ack = await a.request('room:join', { roomId });
      await burst(3, 'known');
      await a.until(() => a.seqs(roomId).length >= 3);
      const lastSeq = ack.seq + 1;
      // The same seq in the room's epoch replays; from an epoch the room no longer has, or with
      // no epoch at all, it cannot be placed in the stream.
      expect(await a.request('room:join', { roomId, lastSeq, epoch: ack.epoch })).toMatchObject({ mode: 'replay', epoch: ack.epoch });
      for (const payload of [{ roomId, lastSeq, epoch: 'an-epoch-long-gone' }, { roomId, lastSeq }]) {
        const rejoin = await a.request('room:join', payload);
        expect(rejoin).toMatchObject({ ok: true, mode: 'snapshot', replayGap: true, epoch: ack.epoch });
        expect(rejoin.seq).toBeGreaterThanOrEqual(lastSeq);
      }
    });

    it('refuses a non-member’s join like a missing room', async () => {
      const c = await client(1, node(0).token('stranger'));
      const ack = await c.request('room:join', { roomId });
      expect(ack).toEqual({ ok: false, error: { code: 'ROOM_NOT_FOUND', message: 'Room not found' } });
      await burst(2, 'secret');
      const seen = await c.request('room:join', { roomId: '00000000-0000-4000-8000-000000000000' });
      expect(seen.ok).toBe(false);
      expect(c.roomEvents(roomId)).toEqual([]);
    });

    it('stops delivering to a member removed over REST, and refuses their events', async () => {
      const m = await addMember('leaver');
      const c = await client(1, m.token);
      expect((await c.request('room:join', { roomId })).ok).toBe(true);
      const before = await burst(1, 'pre-removal');
      await c.until(() => c.seqs(roomId).includes(before[0]!.seq));
      const removed = await node(0).api(owner, 'DELETE', `/rooms/${roomId}/members/${m.userId}`);
      expect(removed.status).toBe(204);
      await c.until(() => c.received.some((r) => r.event === 'room:removed'), 'room:removed');
      const countBefore = c.roomEvents(roomId).length;
      // A witness that is still a member sees the later events; the removed one does not.
      const w = await addMember('witness');
      const wc = await client(0, w.token);
      await wc.request('room:join', { roomId });
      const later = await burst(3, 'post-removal');
      await wc.until(() => wc.seqs(roomId).includes(Math.max(...later.map((p) => p.seq))));
      expect(c.roomEvents(roomId)).toHaveLength(countBefore);
      const typing = await c.request('typing', { roomId, sessionId, on: true });
      expect(typing.ok).toBe(false);
      const rejoin = await c.request('room:join', { roomId });
      expect(rejoin.error.code).toBe('ROOM_NOT_FOUND');
      const send = await c.request('message:send', { roomId, sessionId, clientMsgId: 'after-removal', content: 'hi' });
      expect(send.ok).toBe(false);
      expect(await node(0).orm.em.fork().count(Message, { clientMsgId: 'after-removal' })).toBe(0);
    });

    it('refuses connections with an invalid or expired token', async () => {
      expect(await tryConnect(node(0).url, 'garbage')).toMatchObject({ code: 'TOKEN_INVALID' });
      expect(await tryConnect(node(1).url, undefined)).toMatchObject({ code: 'UNAUTHENTICATED' });
      const expired = node(0).token('late', { expiresInSeconds: -60 });
      expect(await tryConnect(node(0).url, expired)).toMatchObject({ code: 'TOKEN_EXPIRED' });
      expect(await tryConnect(node(0).url, owner)).toBe('connected');
    });

    it('drops a socket when its token expires', async () => {
      const c = new TestClient(node(0).url, node(0).token('brief', { expiresInSeconds: 2 }));
      clients.push(c);
      await c.connected();
      await c.until(() => c.received.some((r) => r.event === 'auth:expired'), 'auth:expired', 10_000);
      await new Promise<void>((resolve) => (c.socket.connected ? c.socket.once('disconnect', () => resolve()) : resolve()));
      expect(c.socket.connected).toBe(false);
    });

    it('answers bad payloads with error acks and leaves nothing behind', async () => {
      const m = await addMember('fuzzer');
      const c = await client(0, m.token);
      const em = () => node(0).orm.em.fork();
      const members = await em().count(RoomMember, { room: roomId });
      const messages = await em().count(Message);
      const bad: [string, unknown, string][] = [
        ['room:join', { roomId: 42 }, 'VALIDATION_FAILED'],
        ['room:join', 'not-an-object', 'VALIDATION_FAILED'],
        ['room:join', { roomId, lastSeq: -1 }, 'VALIDATION_FAILED'],
        ['room:join', { roomId, lastSeq: 1, epoch: 42 }, 'VALIDATION_FAILED'],
        ['room:join', { roomId, extra: 'x'.repeat(1024 * 1024) }, 'PAYLOAD_TOO_LARGE'],
        ['message:send', { roomId, sessionId, clientMsgId: 'big', content: 'x'.repeat(1024 * 1024) }, 'PAYLOAD_TOO_LARGE'],
        ['typing', JSON.parse(`{"roomId":"${roomId}","sessionId":"${sessionId}","on":true,"__proto__":{"polluted":true}}`), 'VALIDATION_FAILED'],
        ['room:join', JSON.parse(`{"__proto__":{"roomId":"${roomId}"}}`), 'VALIDATION_FAILED'],
        ['message:send', { roomId, sessionId, clientMsgId: 7, content: ['hi'] }, 'VALIDATION_FAILED'],
        ['turn:cancel', { roomId, turnId: 'nope' }, 'VALIDATION_FAILED'],
        ['no:such:event', { roomId }, 'UNKNOWN_EVENT'],
      ];
      for (const [event, payload, code] of bad) {
        const ack = await c.request(event, payload);
        expect(ack.ok, `${event} ${code}`).toBe(false);
        expect(ack.error.code, `${event} ${JSON.stringify(payload).slice(0, 80)}`).toBe(code);
      }
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(c.socket.connected).toBe(true);
      expect(await em().count(RoomMember, { room: roomId })).toBe(members);
      expect(await em().count(Message)).toBe(messages);
      // Still usable afterwards.
      const ok = await c.request('room:join', { roomId });
      expect(ok.ok).toBe(true);
    });

    it('announces agent and room changes made over REST to everyone in the room', async () => {
      const m = await addMember('observer');
      const c = await client(1, m.token);
      await c.request('room:join', { roomId });
      const created = await node(0).api(owner, 'POST', `/rooms/${roomId}/agents`, { key: 'critic', name: 'Critic' });
      expect(created.status).toBe(201);
      await c.until(() => c.roomEvents(roomId, 'room:updated').some((e) => e.data.agents?.some((a: any) => a.key === 'critic')), 'agents update');
      await node(0).api(owner, 'PATCH', `/rooms/${roomId}`, { mode: 'roundtable' });
      await c.until(() => c.roomEvents(roomId, 'room:updated').some((e) => e.data.mode === 'roundtable'), 'mode update');
    });

    it('shares presence and typing across nodes', async () => {
      const a = await addMember('typist');
      const b = await addMember('watcher');
      const ca = await client(0, a.token);
      const cb = await client(1, b.token);
      await cb.request('room:join', { roomId });
      await ca.request('room:join', { roomId });
      await cb.until(
        () => cb.roomEvents(roomId, 'presence').some((e) => e.data.userId === a.userId && e.data.state === 'joined'),
        'presence joined',
      );
      // Two keystrokes back to back: the second is throttled.
      const [t1, t2] = await Promise.all([
        ca.request('typing', { roomId, sessionId, on: true }),
        ca.request('typing', { roomId, sessionId, on: true }),
      ]);
      expect([t1, t2]).toEqual([
        { ok: true, throttled: false },
        { ok: true, throttled: true },
      ]);
      await cb.until(() => cb.received.some((r) => r.event === 'typing' && r.data.userId === a.userId), 'typing');
      expect(ca.received.some((r) => r.event === 'typing' && r.data.userId === a.userId)).toBe(false);
      ca.close();
      await cb.until(
        () => cb.roomEvents(roomId, 'presence').some((e) => e.data.userId === a.userId && e.data.state === 'left'),
        'presence left',
      );
    });
  });
}
