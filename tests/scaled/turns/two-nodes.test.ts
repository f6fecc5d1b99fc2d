import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Message, Turn } from '../../../src/db/entities';
import { startFakeOpenAI, type FakeOpenAI } from '../../helpers/fake-openai';
import { TestClient } from '../../helpers/socket-client';
import { startTwoNodes, type TestApp } from '../../helpers/test-app';
import { joinMidTurn } from '../../helpers/in-flight-check';
import { answerAs, eventsOf, fakeModelsEnv, send, setupRoom, streamedText, turnEnd } from '../../helpers/turn-kit';

// Two server nodes on one PostgreSQL database and one Redis.
describe('turns across two nodes', () => {
  let fake: FakeOpenAI;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    fake.setResponder(answerAs());
    const env = fakeModelsEnv(fake);
    ({ a, b } = await startTwoNodes({ env }));
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await fake?.close();
  });

  it('runs three quick messages sent through two nodes one after another, in the order accepted', async () => {
    fake.setResponder(
      answerAs({ Writer: () => ({ text: Array.from({ length: 5 }, (_, i) => ({ text: `${i} `, delayMs: 20 })), usage: { promptTokens: 1, completionTokens: 1 } }) }),
    );
    const r = await setupRoom(a, { mode: 'manual', agents: [{ key: 'writer', name: 'Writer' }] });
    const onB = new TestClient(b.url, r.owner);
    await onB.connected();
    try {
      expect((await onB.request('room:join', { roomId: r.roomId })).ok).toBe(true);
      const acks = [
        await send(r.client, r.roomId, r.sessionId, '@writer one'),
        await send(onB, r.roomId, r.sessionId, '@writer two'),
        await send(r.client, r.roomId, r.sessionId, '@writer three'),
      ];
      for (const x of acks) await turnEnd(onB, x.turnId);
      const turns = await a.orm.em.fork().find(Turn, { id: { $in: acks.map((x) => x.turnId) } });
      const byId = new Map(turns.map((t) => [t.id, t]));
      const ordered = acks.map((x) => byId.get(x.turnId)!);
      for (const t of ordered) expect(t.status).toBe('completed');
      for (let i = 1; i < ordered.length; i++) {
        expect(ordered[i]!.queuedAt.getTime()).toBeGreaterThanOrEqual(ordered[i - 1]!.queuedAt.getTime());
        expect(ordered[i]!.startedAt!.getTime()).toBeGreaterThanOrEqual(ordered[i - 1]!.endedAt!.getTime());
      }
      const started = onB.received.filter((e) => e.event === 'turn:started').map((e) => e.data.turnId);
      expect(started).toEqual(acks.map((x) => x.turnId));
    } finally {
      onB.close();
      r.client.close();
    }
  });

  it('streams a turn running on node A to a client on node B, in order', async () => {
    fake.setResponder(answerAs({ Writer: () => ({ text: Array.from({ length: 30 }, (_, i) => ({ text: `t${i} `, delayMs: 5 })) }) }));
    const r = await setupRoom(a, { mode: 'roundtable', agents: [{ key: 'writer', name: 'Writer' }, { key: 'critic', name: 'Critic' }] });
    const onB = new TestClient(b.url, r.owner);
    await onB.connected();
    try {
      const join = await onB.request('room:join', { roomId: r.roomId });
      const ack = await send(r.client, r.roomId, r.sessionId, 'go');
      const end = await turnEnd(onB, ack.turnId);
      await turnEnd(r.client, ack.turnId);
      expect(end.status).toBe('completed');
      const seqs = onB.seqs(r.roomId).filter((s) => s > join.seq);
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => join.seq + 1 + i));
      expect(seqs).toEqual(r.client.seqs(r.roomId).filter((s) => s > join.seq));
      const messages = await a.orm.em.fork().find(Message, { turn: ack.turnId, authorType: 'agent' }, { orderBy: { createdAt: 'asc' } });
      const streamed = streamedText(onB, ack.turnId);
      expect(messages.map((m) => m.agentKey)).toEqual(['writer', 'critic']);
      for (const m of messages) expect(streamed[m.agentKey!]).toBe(m.content);
      expect(streamed.writer).toBe(Array.from({ length: 30 }, (_, i) => `t${i} `).join(''));
      const order = eventsOf(onB, ack.turnId).map((e) => e.event).filter((e) => e !== 'agent:delta');
      expect(order.filter((e) => e !== 'budget:updated')).toEqual(['turn:queued', 'turn:started', 'turn:plan', 'agent:start', 'agent:end', 'agent:start', 'agent:end', 'turn:end']);
    } finally {
      onB.close();
      r.client.close();
    }
  });

  it('gives a client joining on node B the partial text of a turn running on node A', async () => {
    fake.setResponder(answerAs({ Writer: () => ({ text: Array.from({ length: 60 }, (_, i) => ({ text: `p${i} `, delayMs: 10 })) }) }));
    const r = await setupRoom(a, { mode: 'manual', agents: [{ key: 'writer', name: 'Writer' }] });
    const ack = await send(r.client, r.roomId, r.sessionId, '@writer stream please');
    const { late, rebuilt } = await joinMidTurn(b, r, ack.turnId, 'writer');
    try {
      const text = await rebuilt();
      const committed = await a.orm.em.fork().findOneOrFail(Message, { turn: ack.turnId, authorType: 'agent' });
      expect(text).toBe(committed.content);
    } finally {
      late.close();
      r.client.close();
    }
  });

  it('deduplicates one clientMsgId sent to both nodes, and cancels from the other node', async () => {
    fake.setResponder(answerAs({ Writer: () => ({ text: Array.from({ length: 300 }, (_, i) => ({ text: `w${i} `, delayMs: 20 })) }) }));
    const r = await setupRoom(a, { mode: 'manual', agents: [{ key: 'writer', name: 'Writer' }] });
    const onB = new TestClient(b.url, r.owner);
    await onB.connected();
    try {
      await onB.request('room:join', { roomId: r.roomId });
      const payload = { roomId: r.roomId, sessionId: r.sessionId, clientMsgId: 'twice-two-nodes', content: '@writer long one' };
      const [x, y] = await Promise.all([r.client.request('message:send', payload), onB.request('message:send', payload)]);
      expect(x.turnId).toBe(y.turnId);
      expect(x.messageId).toBe(y.messageId);
      expect(await a.orm.em.fork().count(Message, { clientMsgId: 'twice-two-nodes' })).toBe(1);
      await onB.until(() => eventsOf(onB, x.turnId, 'agent:delta').length >= 2, 'deltas on B');
      // Cancel through whichever node did not run the turn, too: the signal crosses nodes.
      const c1 = await onB.request('turn:cancel', { roomId: r.roomId, turnId: x.turnId });
      const c2 = await r.client.request('turn:cancel', { roomId: r.roomId, turnId: x.turnId });
      expect(c1.ok && c2.ok).toBe(true);
      const end = await turnEnd(onB, x.turnId);
      expect(end.status).toBe('cancelled');
      expect(eventsOf(onB, x.turnId, 'turn:end')).toHaveLength(1);
      const msg = await a.orm.em.fork().findOneOrFail(Message, { turn: x.turnId, authorType: 'agent' });
      expect(msg.status).toBe('cancelled');
      expect(msg.content).toBe(streamedText(onB, x.turnId).writer);
    } finally {
      onB.close();
      r.client.close();
    }
  });
});
