import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LlmUsageEvent, Message, Session, Turn } from '../../../src/db/entities';
import { startFakeOpenAI, transcriptOf, type FakeOpenAI } from '../../helpers/fake-openai';
import { startTestApp, testDb, type TestApp } from '../../helpers/test-app';
import { joinMidTurn } from '../../helpers/in-flight-check';
import {
  agentNameOf,
  answerAs,
  clientMsgId,
  eventsOf,
  fakeModelsEnv,
  send,
  setupRoom,
  streamedText,
  turnEnd,
} from '../../helpers/turn-kit';

// One server for the file; the suite runs once per stream shape the model server may send:
// `delta.role` on the first chunk only (OpenAI), and on no chunk at all (the field is optional).
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

describe.each([{ omitRole: false }, { omitRole: true }])(`turn engine on ${testDb()}, chunks without role: $omitRole`, (shape) => {
  beforeAll(() => fake.setStreamShape(shape));
  beforeEach(() => fake.setResponder(answerAs()));

  const em = () => app.orm.em.fork();

  /** Checks, right when turn:end arrived, that the turn's rows are committed and match the stream. */
  async function checkCommitted(c: Awaited<ReturnType<typeof setupRoom>>, turnId: string, sessionId: string) {
    const audit = await app.api(c.owner, 'GET', `/sessions/${sessionId}/turns/${turnId}`);
    expect(audit.status).toBe(200);
    expect(['completed', 'partial', 'failed', 'cancelled']).toContain(audit.body.turn.status);
    const messages = await em().find(Message, { turn: turnId, authorType: 'agent' }, { orderBy: { createdAt: 'asc' } });
    const streamed = streamedText(c.client, turnId);
    for (const m of messages) expect(m.content, `agent ${m.agentKey}`).toBe(streamed[m.agentKey!] ?? '');
    return { audit: audit.body, messages };
  }

  it('manual mode: tagged agents answer in order of first appearance, streams equal commits', async () => {
    const r = await setupRoom(app, {
      mode: 'manual',
      agents: [
        { key: 'writer', name: 'Writer' },
        { key: 'critic', name: 'Critic' },
        { key: 'editor', name: 'Editor' },
      ],
    });
    const ack = await send(r.client, r.roomId, r.sessionId, 'Hey @CRITIC, then @writer — and @critic again, please.');
    const end = await turnEnd(r.client, ack.turnId);
    expect(end.status).toBe('completed');
    const { audit, messages } = await checkCommitted(r, ack.turnId, r.sessionId);
    expect(messages.map((m) => m.agentKey)).toEqual(['critic', 'writer']);
    expect(messages.map((m) => m.modelAlias)).toEqual(['fake', 'fake']);
    expect(messages[0]!.content).toBe('Critic answers: point one, point two.');
    expect(audit.turn.plan).toEqual(['critic', 'writer']);
    const order = eventsOf(r.client, ack.turnId).map((e) => e.event).filter((e) => e !== 'agent:delta');
    // No daily limit applies to this room: the turn's commit adds its spend to the ledger, and the
    // room's spend (budget:updated, both agents' calls) follows the commit, before turn:end.
    expect(order).toEqual(['turn:queued', 'turn:started', 'turn:plan', 'agent:start', 'agent:end', 'agent:start', 'agent:end', 'budget:updated', 'turn:end']);
    const spend = eventsOf(r.client, ack.turnId, 'budget:updated')[0]!.data.budget;
    expect(spend.tokens.spent).toBeGreaterThanOrEqual(2 * (30 + 8));
    const agentEnd = eventsOf(r.client, ack.turnId, 'agent:end')[0]!.data;
    expect(agentEnd.usage).toEqual({ inputTokens: 30, outputTokens: 8, costUsd: (30 * 1 + 8 * 2) / 1e6 });
    expect(agentEnd.finishReason).toBe('stop');
    // Every delta frame carries the room envelope, in seq order.
    const seqs = r.client.roomEvents(r.roomId).map((e) => e.data.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });

  it('manual mode with no valid tag: a system message lists the agents and no model is called', async () => {
    const r = await setupRoom(app, { mode: 'manual', agents: [{ key: 'writer', name: 'Writer' }] });
    const before = fake.requests.length;
    const ack = await send(r.client, r.roomId, r.sessionId, 'Anyone? @nobody');
    const end = await turnEnd(r.client, ack.turnId);
    expect(end.status).toBe('completed');
    expect(fake.requests.length).toBe(before);
    const created = r.client.received.find((e) => e.event === 'message:created' && e.data.message.authorType === 'system');
    expect(created?.data.message.content).toContain('@writer');
    const rows = await em().find(Message, { turn: ack.turnId, authorType: 'system' });
    expect(rows).toHaveLength(1);
  });

  it('roundtable: every agent in position order, and agent 3 sees the answers of agents 1 and 2', async () => {
    const r = await setupRoom(app, {
      mode: 'roundtable',
      agents: [
        { key: 'alpha', name: 'Alpha' },
        { key: 'beta', name: 'Beta' },
        { key: 'gamma', name: 'Gamma' },
      ],
    });
    const start = fake.requests.length;
    const ack = await send(r.client, r.roomId, r.sessionId, 'Discuss the plan.');
    expect((await turnEnd(r.client, ack.turnId)).status).toBe('completed');
    const { messages } = await checkCommitted(r, ack.turnId, r.sessionId);
    expect(messages.map((m) => m.agentKey)).toEqual(['alpha', 'beta', 'gamma']);
    const reqs = fake.requests.slice(start);
    expect(reqs.map(agentNameOf)).toEqual(['Alpha', 'Beta', 'Gamma']);
    const third = transcriptOf(reqs[2]!);
    expect(third).toContain('Alpha answers: point one, point two.');
    expect(third).toContain('Beta answers: point one, point two.');
    expect(transcriptOf(reqs[1]!)).not.toContain('Beta answers');
  });

  describe('orchestrator', () => {
    const agents = [
      { key: 'planner', name: 'Planner' },
      { key: 'coder', name: 'Coder' },
      { key: 'tester', name: 'Tester' },
    ];

    it('runs a valid plan in its order and records the manager call', async () => {
      fake.setResponder(answerAs({}, () => ({ text: '```json\n{"selected_agent_keys": ["tester", "planner"]}\n```', usage: { promptTokens: 50, completionTokens: 10 } })));
      const r = await setupRoom(app, { mode: 'orchestrator', agents });
      const ack = await send(r.client, r.roomId, r.sessionId, 'Ship it.');
      expect((await turnEnd(r.client, ack.turnId)).status).toBe('completed');
      const plan = eventsOf(r.client, ack.turnId, 'turn:plan')[0]!.data;
      expect(plan).toMatchObject({ agentKeys: ['tester', 'planner'], fallback: false });
      const { audit, messages } = await checkCommitted(r, ack.turnId, r.sessionId);
      expect(messages.map((m) => m.agentKey)).toEqual(['tester', 'planner']);
      expect(audit.turn.fallback).toBe(false);
      const purposes = (await em().find(LlmUsageEvent, { turn: ack.turnId })).map((u) => u.purpose).sort();
      expect(purposes).toEqual(['agent', 'agent', 'manager']);
    });

    for (const [name, answer, reason] of [
      ['invalid JSON', 'I think the coder should go first.', 'not a JSON object'],
      ['unknown keys', '{"selected_agent_keys": ["coder", "hacker"]}', 'unknown agents: hacker'],
    ] as const) {
      it(`falls back on ${name}, and records it`, async () => {
        fake.setResponder(answerAs({}, () => ({ text: answer })));
        const r = await setupRoom(app, { mode: 'orchestrator', agents });
        const ack = await send(r.client, r.roomId, r.sessionId, 'Please @coder take a look.');
        expect((await turnEnd(r.client, ack.turnId)).status).toBe('completed');
        const plan = eventsOf(r.client, ack.turnId, 'turn:plan')[0]!.data;
        expect(plan.fallback).toBe(true);
        expect(plan.agentKeys).toEqual(['coder']);
        expect(plan.reason).toContain(reason);
        const { audit } = await checkCommitted(r, ack.turnId, r.sessionId);
        expect(audit.turn.fallback).toBe(true);
        expect(audit.turn.planReason).toContain(reason);
        const turn = await em().findOneOrFail(Turn, { id: ack.turnId });
        expect(turn.plan).toMatchObject({ agentKeys: ['coder'], fallback: true });
      });
    }

    it('agent 2 of 3 failing leaves agents 1 and 3 committed and the turn partial', async () => {
      fake.setResponder(
        answerAs({ Coder: () => ({ status: 500, errorMessage: 'upstream exploded' }) }, () => ({ text: '{"selected_agent_keys": ["planner", "coder", "tester"]}' })),
      );
      const r = await setupRoom(app, { mode: 'orchestrator', agents });
      const ack = await send(r.client, r.roomId, r.sessionId, 'All hands.');
      const end = await turnEnd(r.client, ack.turnId);
      expect(end.status).toBe('partial');
      const { audit, messages } = await checkCommitted(r, ack.turnId, r.sessionId);
      expect(messages.map((m) => [m.agentKey, m.status])).toEqual([
        ['planner', 'complete'],
        ['coder', 'failed'],
        ['tester', 'complete'],
      ]);
      const coderEnd = eventsOf(r.client, ack.turnId, 'agent:end').find((e) => e.data.agentKey === 'coder')!.data;
      expect(coderEnd.status).toBe('failed');
      expect(coderEnd.error.code).toBe('MODEL_ERROR');
      expect(audit.agents.find((a: any) => a.agentKey === 'coder').error).toContain('MODEL_ERROR');
      expect(audit.turn.status).toBe('partial');
    });
  });

  describe('an empty answer', () => {
    it('alone: the agent ends failed EMPTY_ANSWER with the provider usage, and the turn fails', async () => {
      fake.setResponder(answerAs({ Writer: () => ({ text: [], usage: { promptTokens: 30, completionTokens: 0 } }) }));
      const r = await setupRoom(app, { mode: 'manual', agents: [{ key: 'writer', name: 'Writer' }] });
      const ack = await send(r.client, r.roomId, r.sessionId, '@writer say nothing');
      const end = await turnEnd(r.client, ack.turnId);
      expect(end.status).toBe('failed');
      expect(end.error.code).toBe('ALL_AGENTS_FAILED');
      expect(eventsOf(r.client, ack.turnId, 'agent:delta')).toEqual([]);
      const agentEnd = eventsOf(r.client, ack.turnId, 'agent:end')[0]!.data;
      expect(agentEnd).toMatchObject({ status: 'failed', finishReason: 'stop', error: { code: 'EMPTY_ANSWER' } });
      expect(agentEnd.usage).toEqual({ inputTokens: 30, outputTokens: 0, costUsd: 30 / 1e6 });
      const { audit, messages } = await checkCommitted(r, ack.turnId, r.sessionId);
      expect(messages.map((m) => [m.content, m.status, m.error?.split(':')[0]])).toEqual([['', 'failed', 'EMPTY_ANSWER']]);
      expect(audit.turn.status).toBe('failed');
    });

    it('next to agents that answered: the turn is partial', async () => {
      fake.setResponder(answerAs({ Beta: () => ({ text: [] }) }));
      const r = await setupRoom(app, { mode: 'roundtable', agents: [{ key: 'alpha', name: 'Alpha' }, { key: 'beta', name: 'Beta' }] });
      const ack = await send(r.client, r.roomId, r.sessionId, 'Both of you, please.');
      expect((await turnEnd(r.client, ack.turnId)).status).toBe('partial');
      const { messages } = await checkCommitted(r, ack.turnId, r.sessionId);
      expect(messages.map((m) => [m.agentKey, m.status])).toEqual([
        ['alpha', 'complete'],
        ['beta', 'failed'],
      ]);
      expect(messages[0]!.content).toBe('Alpha answers: point one, point two.');
      const betaEnd = eventsOf(r.client, ack.turnId, 'agent:end').find((e) => e.data.agentKey === 'beta')!.data;
      expect(betaEnd.error.code).toBe('EMPTY_ANSWER');
    });
  });

  it('cancel mid-stream aborts the model request, keeps the streamed text and commits cancelled', async () => {
    fake.setResponder(answerAs({ Writer: () => ({ text: Array.from({ length: 200 }, (_, i) => ({ text: `w${i} `, delayMs: 20 })) }) }));
    const r = await setupRoom(app, { mode: 'roundtable', agents: [{ key: 'writer', name: 'Writer' }, { key: 'critic', name: 'Critic' }] });
    const start = fake.requests.length;
    const ack = await send(r.client, r.roomId, r.sessionId, 'Write a long essay.');
    await r.client.until(() => eventsOf(r.client, ack.turnId, 'agent:delta').length >= 2, 'first deltas');
    const cancel = await r.client.request('turn:cancel', { roomId: r.roomId, turnId: ack.turnId });
    expect(cancel).toMatchObject({ ok: true, cancelRequested: true });
    const end = await turnEnd(r.client, ack.turnId);
    expect(end.status).toBe('cancelled');
    expect(await fake.requests[start]!.ended).toBe('client-closed');
    const { messages } = await checkCommitted(r, ack.turnId, r.sessionId);
    expect(messages).toHaveLength(1);
    expect(messages[0]!.status).toBe('cancelled');
    expect(messages[0]!.content.length).toBeGreaterThan(0);
    expect(messages[0]!.content.length).toBeLessThan(200 * 4);
    expect(fake.requests.length).toBe(start + 1);
    expect((await em().findOneOrFail(Turn, { id: ack.turnId })).status).toBe('cancelled');
  });

  it('ends a turn whose commit fails with one turn:end failed COMMIT_FAILED', async () => {
    fake.setResponder(answerAs({ Writer: () => ({ text: Array.from({ length: 40 }, (_, i) => ({ text: `w${i} `, delayMs: 15 })) }) }));
    const r = await setupRoom(app, { mode: 'manual', agents: [{ key: 'writer', name: 'Writer' }] });
    try {
      const ack = await send(r.client, r.roomId, r.sessionId, '@writer go');
      await r.client.until(() => eventsOf(r.client, ack.turnId, 'agent:delta').length >= 1, 'streaming');
      // The session disappears under the running turn (its rows cascade away): the commit cannot happen.
      await em().nativeDelete(Session, { id: r.sessionId });
      const end = await turnEnd(r.client, ack.turnId);
      expect(end.status).toBe('failed');
      expect(end.error.code).toBe('COMMIT_FAILED');
      // The server keeps serving turns afterwards.
      const s2 = await app.api(r.owner, 'POST', `/rooms/${r.roomId}/sessions`, { title: 'again' });
      fake.setResponder(answerAs());
      const again = await send(r.client, r.roomId, s2.body.id, '@writer again');
      expect((await turnEnd(r.client, again.turnId)).status).toBe('completed');
      // By now any second turn:end of the failed turn would have arrived (events are ordered).
      expect(eventsOf(r.client, ack.turnId, 'turn:end')).toHaveLength(1);
    } finally {
      r.client.close();
    }
  });

  it('shows a turn in flight with its partial text to a client joining mid-stream', async () => {
    fake.setResponder(answerAs({ Writer: () => ({ text: Array.from({ length: 60 }, (_, i) => ({ text: `p${i} `, delayMs: 10 })) }) }));
    const r = await setupRoom(app, { mode: 'manual', agents: [{ key: 'writer', name: 'Writer' }] });
    const ack = await send(r.client, r.roomId, r.sessionId, '@writer stream please');
    const { late, rebuilt } = await joinMidTurn(app, r, ack.turnId, 'writer');
    try {
      const text = await rebuilt();
      const committed = await em().findOneOrFail(Message, { turn: ack.turnId, authorType: 'agent' });
      expect(text).toBe(committed.content);
    } finally {
      late.close();
      r.client.close();
    }
  });

  it('is idempotent on clientMsgId across sockets: one message, one turn, same ids in both acks', async () => {
    const r = await setupRoom(app, { mode: 'manual', agents: [{ key: 'writer', name: 'Writer' }] });
    const { TestClient } = await import('../../helpers/socket-client');
    const second = new TestClient(app.url, r.owner);
    await second.connected();
    try {
      // Unique per run: the suite runs once per stream shape against the same database.
      const id = clientMsgId();
      const payload = { roomId: r.roomId, sessionId: r.sessionId, clientMsgId: id, content: '@writer hello' };
      const [a, b] = await Promise.all([r.client.request('message:send', payload), second.request('message:send', payload)]);
      expect(a.ok && b.ok).toBe(true);
      expect(a.messageId).toBe(b.messageId);
      expect(a.turnId).toBe(b.turnId);
      expect([a.duplicate, b.duplicate].sort()).toEqual([false, true]);
      await turnEnd(r.client, a.turnId);
      expect(await em().count(Message, { clientMsgId: id })).toBe(1);
      expect(await em().count(Turn, { session: r.sessionId })).toBe(1);
      const again = await second.request('message:send', payload);
      expect(again).toMatchObject({ ok: true, duplicate: true, turnId: a.turnId });
    } finally {
      second.close();
    }
  });

  it('runs turns of one session one after another in order, and different sessions at the same time', async () => {
    fake.setResponder(answerAs({ Writer: (req) => ({ text: Array.from({ length: 6 }, (_, i) => ({ text: `${i} `, delayMs: 25 })), usage: { promptTokens: 1, completionTokens: 1 } }) }));
    const r = await setupRoom(app, { mode: 'manual', agents: [{ key: 'writer', name: 'Writer' }] });
    const other = (await app.api(r.owner, 'POST', `/rooms/${r.roomId}/sessions`, { title: 'parallel' })).body.id;
    const acks: Awaited<ReturnType<typeof send>>[] = [];
    for (const n of [1, 2, 3]) acks.push(await send(r.client, r.roomId, r.sessionId, `@writer message ${n}`));
    const parallel = await send(r.client, r.roomId, other, '@writer in the other session');
    for (const a of [...acks, parallel]) await turnEnd(r.client, a.turnId);
    const turns = await em().find(Turn, { id: { $in: acks.map((a) => a.turnId) } });
    const byId = new Map(turns.map((t) => [t.id, t]));
    const ordered = acks.map((a) => byId.get(a.turnId)!);
    for (let i = 1; i < ordered.length; i++) {
      expect(ordered[i]!.startedAt!.getTime()).toBeGreaterThanOrEqual(ordered[i - 1]!.endedAt!.getTime());
    }
    const p = await em().findOneOrFail(Turn, { id: parallel.turnId });
    const first = ordered[0]!;
    // The other session's turn ran while this session's turns were running.
    expect(p.startedAt!.getTime()).toBeLessThan(ordered[2]!.endedAt!.getTime());
    expect(p.endedAt!.getTime()).toBeGreaterThan(first.startedAt!.getTime());
    const positions = acks.map((a) => r.client.received.find((e) => e.event === 'turn:queued' && e.data.turnId === a.turnId)!.data.position);
    expect(positions[0]).toBe(0);
    expect(positions[2]).toBeGreaterThan(0);
    const starts = r.client.received.filter((e) => e.event === 'turn:started').map((e) => e.data.turnId);
    expect(starts.filter((id) => acks.some((a) => a.turnId === id))).toEqual(acks.map((a) => a.turnId));
  });

  it('serves the room usage and refuses the audit to non-members', async () => {
    const r = await setupRoom(app, { mode: 'manual', agents: [{ key: 'writer', name: 'Writer' }] });
    const ack = await send(r.client, r.roomId, r.sessionId, '@writer count this');
    await turnEnd(r.client, ack.turnId);
    const usage = await app.api(r.owner, 'GET', `/rooms/${r.roomId}/usage`);
    expect(usage.status).toBe(200);
    expect(usage.body.items).toEqual([{ key: 'agent', infrastructure: false, calls: 1, failedCalls: 0, inputTokens: 30, outputTokens: 8, costUsd: 0.000046 }]);
    const byAlias = await app.api(r.owner, 'GET', `/rooms/${r.roomId}/usage?groupBy=alias`);
    expect(byAlias.body.items).toEqual([expect.objectContaining({ key: 'fake', calls: 1 })]);
    const stranger = await app.api(app.token('stranger'), 'GET', `/sessions/${r.sessionId}/turns/${ack.turnId}`);
    expect(stranger.status).toBe(404);
    expect(stranger.body.error.code).toBe('SESSION_NOT_FOUND');
  });
});
