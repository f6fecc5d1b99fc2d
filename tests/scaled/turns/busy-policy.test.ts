import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Message, Turn } from '../../../src/db/entities';
import type { RecordedRequest } from '../../helpers/fake-openai';
import { startFakeOpenAI, type FakeOpenAI } from '../../helpers/fake-openai';
import { TestClient } from '../../helpers/socket-client';
import { startTwoNodes, type TestApp } from '../../helpers/test-app';
import { clientMsgId, eventsOf, fakeModelsEnv, send, setupRoom, streamedText, turnEnd, type RoomSetup } from '../../helpers/turn-kit';

// The room's busyPolicy with two senders on two nodes: the owner sends through node A, a member
// through node B, into one session.
describe('busy-room policy across two nodes', () => {
  let fake: FakeOpenAI;
  let a: TestApp;
  let b: TestApp;

  /** A message holding LONG streams for seconds; any other is answered at once. */
  const triggerOf = (req: RecordedRequest) => JSON.stringify(req.body.messages.at(-1) ?? '');
  const responder = (req: RecordedRequest) =>
    triggerOf(req).includes('LONG')
      ? { text: Array.from({ length: 400 }, (_, i) => ({ text: `w${i} `, delayMs: 15 })) }
      : { text: 'short answer', usage: { promptTokens: 1, completionTokens: 1 } };

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    fake.setResponder(responder);
    const env = fakeModelsEnv(fake, { MAX_QUEUED_TURNS_PER_SENDER: '2' });
    ({ a, b } = await startTwoNodes({ env }));
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await fake?.close();
  });

  /** A room with one agent under `policy`, its owner joined on A and a member joined on B. */
  async function room(policy: 'queue' | 'reject' | 'interrupt'): Promise<RoomSetup & { member: TestClient }> {
    const r = await setupRoom(a, { mode: 'manual', agents: [{ key: 'writer', name: 'Writer' }] });
    expect((await a.api(r.owner, 'PATCH', `/rooms/${r.roomId}`, { settings: { busyPolicy: policy } })).status).toBe(200);
    const sub = `busy-member-${Math.random().toString(36).slice(2, 8)}`;
    expect((await a.api(r.owner, 'POST', `/rooms/${r.roomId}/members`, { sub, role: 'member' })).status).toBe(201);
    const member = new TestClient(b.url, b.token(sub, { name: 'Mia' }));
    await member.connected();
    expect((await member.request('room:join', { roomId: r.roomId })).ok).toBe(true);
    return { ...r, member };
  }
  const started = (c: TestClient, turnId: string) => c.until(() => eventsOf(c, turnId, 'agent:delta').length >= 2, `deltas of ${turnId}`);
  const queuedPosition = async (c: TestClient, turnId: string) => {
    await c.until(() => eventsOf(c, turnId, 'turn:queued').length > 0, `turn:queued ${turnId}`);
    return eventsOf(c, turnId, 'turn:queued')[0]!.data.position as number;
  };

  it('queue: waits in order with its position; a sender past the per-sender cap is refused while the other still queues; a sender withdraws a waiting turn', async () => {
    const r = await room('queue');
    try {
      const running = await send(r.client, r.roomId, r.sessionId, '@writer LONG one');
      await started(r.member, running.turnId);
      const mine1 = await send(r.client, r.roomId, r.sessionId, '@writer two');
      const mine2 = await send(r.client, r.roomId, r.sessionId, '@writer three');
      // The owner has two waiting (MAX_QUEUED_TURNS_PER_SENDER=2): a third is refused.
      const over = await r.client.request('message:send', { roomId: r.roomId, sessionId: r.sessionId, clientMsgId: clientMsgId(), content: '@writer four' });
      expect(over.error).toMatchObject({ code: 'QUEUE_FULL', details: { limit: 'queuedTurnsPerSender', max: 2 } });
      // The member still gets a place, through the other node.
      const theirs = await send(r.member, r.roomId, r.sessionId, '@writer from Mia');
      expect(await queuedPosition(r.member, mine1.turnId)).toBe(1);
      expect(await queuedPosition(r.member, mine2.turnId)).toBe(2);
      expect(await queuedPosition(r.client, theirs.turnId)).toBe(3);
      // Withdrawing: only its sender (or an owner/admin) takes a waiting turn back.
      const notTheirs = await r.member.request('turn:cancel', { roomId: r.roomId, turnId: mine2.turnId });
      expect(notTheirs.error.code).toBe('FORBIDDEN');
      const withdrawn = await r.client.request('turn:cancel', { roomId: r.roomId, turnId: mine2.turnId });
      expect(withdrawn).toMatchObject({ ok: true, status: 'cancelled', cancelRequested: true });
      expect((await turnEnd(r.member, mine2.turnId)).status).toBe('cancelled');
      // With one of theirs withdrawn, the owner may queue again.
      const again = await send(r.client, r.roomId, r.sessionId, '@writer five');

      expect((await turnEnd(r.member, running.turnId, 30_000)).status).toBe('completed');
      for (const t of [mine1, theirs, again]) expect((await turnEnd(r.member, t.turnId)).status).toBe('completed');
      const startedOrder = r.member.received.filter((e) => e.event === 'turn:started').map((e) => e.data.turnId);
      expect(startedOrder).toEqual([running.turnId, mine1.turnId, theirs.turnId, again.turnId]);
      expect(eventsOf(r.member, mine2.turnId, 'turn:started')).toHaveLength(0);
    } finally {
      r.client.close();
      r.member.close();
    }
  });

  it('reject: refuses a message while a turn runs, naming it (SESSION_BUSY), and accepts it once the turn ended', async () => {
    const r = await room('reject');
    try {
      const running = await send(r.client, r.roomId, r.sessionId, '@writer LONG one');
      await started(r.member, running.turnId);
      const busy = await r.member.request('message:send', { roomId: r.roomId, sessionId: r.sessionId, clientMsgId: 'refused-1', content: '@writer me too' });
      expect(busy.error).toMatchObject({ code: 'SESSION_BUSY', details: { turnId: running.turnId, sessionId: r.sessionId } });
      expect(busy.error.message).toContain(running.turnId);
      expect(await a.orm.em.fork().count(Message, { clientMsgId: 'refused-1' })).toBe(0);
      await r.client.request('turn:cancel', { roomId: r.roomId, turnId: running.turnId });
      expect((await turnEnd(r.member, running.turnId)).status).toBe('cancelled');
      const later = await send(r.member, r.roomId, r.sessionId, '@writer now');
      expect((await turnEnd(r.member, later.turnId)).status).toBe('completed');
    } finally {
      r.client.close();
      r.member.close();
    }
  });

  it("interrupt: cancels the running turn keeping its partial text, then runs the other sender's message", async () => {
    const r = await room('interrupt');
    try {
      const running = await send(r.client, r.roomId, r.sessionId, '@writer LONG one');
      await started(r.member, running.turnId);
      const next = await send(r.member, r.roomId, r.sessionId, '@writer stop, do this');
      const ended = await turnEnd(r.client, running.turnId);
      expect(ended.status).toBe('cancelled');
      expect((await turnEnd(r.client, next.turnId)).status).toBe('completed');
      const partial = await a.orm.em.fork().findOneOrFail(Message, { turn: running.turnId, authorType: 'agent' });
      expect(partial.status).toBe('cancelled');
      expect(partial.content.length).toBeGreaterThan(0);
      expect(partial.content).toBe(streamedText(r.client, running.turnId).writer);
      const turns = await a.orm.em.fork().find(Turn, { id: { $in: [running.turnId, next.turnId] } });
      const byId = new Map(turns.map((t) => [t.id, t]));
      expect(byId.get(next.turnId)!.startedAt!.getTime()).toBeGreaterThanOrEqual(byId.get(running.turnId)!.endedAt!.getTime());
      // Well before the long answer would have ended on its own (400 chunks).
      expect(partial.content.split(' ').length).toBeLessThan(400);
    } finally {
      r.client.close();
      r.member.close();
    }
  });
});
