import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LlmUsageEvent, Message } from '../../../src/db/entities';
import { startFakeOpenAI, type FakeOpenAI } from '../../helpers/fake-openai';
import { TestClient } from '../../helpers/socket-client';
import { startTestApp, testDb, type TestApp } from '../../helpers/test-app';
import { agentNameOf, answerAs, eventsOf, fakeModelsEnv, send, setupRoom, streamedText, turnEnd } from '../../helpers/turn-kit';

/** A clock a test moves by hand: the time daily budgets are counted in. */
const movableClock = (iso: string) => {
  let at = new Date(iso);
  return { now: () => new Date(at), set: (next: string) => void (at = new Date(next)) };
};

const ledger = async (app: TestApp, scope: 'room' | 'user', scopeId: string) => {
  const rows = await app.orm.em
    .fork()
    .getConnection()
    .execute<{ day: string; spent_tokens: string; reserved_tokens: string }[]>(
      `select "day", "spent_tokens", "reserved_tokens" from "budget_ledger" where "scope" = ? and "scope_id" = ? order by "day"`,
      [scope, scopeId],
    );
  return rows.map((r) => ({ day: r.day, spent: Number(r.spent_tokens), reserved: Number(r.reserved_tokens) }));
};

const longAnswer = Array.from({ length: 1200 }, (_, i) => `w${i % 10} `).join('');

describe(`room daily token budget on ${testDb()}`, () => {
  let fake: FakeOpenAI;
  let app: TestApp;
  const clock = movableClock('2026-12-06T10:00:00.000Z');
  beforeAll(async () => {
    fake = await startFakeOpenAI();
    app = await startTestApp({ env: fakeModelsEnv(fake), clock });
  });
  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });

  it('stops the agent at the budget mid-stream keeping its text, makes no call once spent, and resets at the day boundary', async () => {
    fake.setResponder(answerAs());
    const r = await setupRoom(app, { mode: 'roundtable', agents: [{ key: 'writer', name: 'Writer' }, { key: 'editor', name: 'Editor' }] });
    // Turn 1, no budget yet: both agents answer with the fake's reported usage (30 + 8 each).
    const first = await send(r.client, r.roomId, r.sessionId, 'draft the intro');
    expect((await turnEnd(r.client, first.turnId)).status).toBe('completed');
    expect(await ledger(app, 'room', r.roomId)).toEqual([{ day: '2026-12-06', spent: 76, reserved: 0 }]);
    const updates = eventsOf(r.client, first.turnId, 'budget:updated');
    expect(updates.at(-1)!.data.budget).toMatchObject({ day: '2026-12-06', tokens: { spent: 76, limit: null, remaining: null } });

    // The room may spend 700 more today: the Writer's next request fits, its long answer does not.
    const limit = 76 + 700;
    expect((await app.api(r.owner, 'PATCH', `/rooms/${r.roomId}`, { settings: { budget: { dailyTokens: limit } } })).status).toBe(200);
    fake.setResponder(answerAs({ Writer: () => ({ text: longAnswer, chunkDelayMs: 1 }) }));
    const before = fake.requests.length;
    const second = await send(r.client, r.roomId, r.sessionId, 'now the whole chapter');
    const end2 = await turnEnd(r.client, second.turnId);
    expect(end2.status).toBe('partial');

    const [writerEnd, editorEnd] = eventsOf(r.client, second.turnId, 'agent:end').map((e) => e.data);
    expect(writerEnd).toMatchObject({
      agentKey: 'writer',
      status: 'partial',
      finishReason: 'length',
      error: { code: 'BUDGET_EXCEEDED', details: { budget: 'roomDailyTokens', resetsAt: '2026-12-07T00:00:00.000Z' } },
    });
    // The next agent makes no call: the budget is spent.
    expect(editorEnd).toMatchObject({ agentKey: 'editor', status: 'failed', error: { code: 'BUDGET_EXCEEDED', details: { budget: 'roomDailyTokens' } } });
    expect(fake.requests.length - before).toBe(1);
    // The stream was stopped from our side: the request was closed before the answer ended.
    expect(await fake.requests.at(-1)!.ended).toBe('client-closed');

    // The partial text is committed exactly as streamed: a prefix of the answer, cut short.
    const streamed = streamedText(r.client, second.turnId).writer!;
    expect(streamed.length).toBeGreaterThan(0);
    expect(streamed.length).toBeLessThan(longAnswer.length);
    expect(longAnswer.startsWith(streamed)).toBe(true);
    const stored = await app.orm.em.fork().findOneOrFail(Message, { turn: second.turnId, agentKey: 'writer' });
    expect(stored).toMatchObject({ content: streamed, status: 'partial' });

    // Charged up to the limit, not past it; the stopped call is recorded as such.
    const [day] = await ledger(app, 'room', r.roomId);
    expect(day!.reserved).toBe(0);
    expect(day!.spent).toBeLessThanOrEqual(limit);
    expect(day!.spent).toBeGreaterThanOrEqual(limit - 1);
    const rows = await app.orm.em.fork().find(LlmUsageEvent, { turn: second.turnId });
    expect(rows.map((u) => [u.agentKey, u.status, u.estimated])).toEqual([['writer', 'stopped', true]]);
    expect(eventsOf(r.client, second.turnId, 'budget:updated').at(-1)!.data.budget.tokens).toMatchObject({ limit, remaining: limit - day!.spent });

    // A member who joins now sees the spend and what is left in the snapshot.
    const late = new TestClient(app.url, r.owner);
    await late.connected();
    const join = await late.request('room:join', { roomId: r.roomId });
    expect(join.snapshot.budget).toMatchObject({ day: '2026-12-06', resetsAt: '2026-12-07T00:00:00.000Z', tokens: { spent: day!.spent, limit } });
    late.close();

    // The next turn's agents make no model call at all.
    const third = await send(r.client, r.roomId, r.sessionId, 'one more thing');
    const end3 = await turnEnd(r.client, third.turnId);
    expect(end3).toMatchObject({ status: 'failed', error: { code: 'BUDGET_EXCEEDED' }, usage: { inputTokens: 0, outputTokens: 0, costUsd: 0 } });
    expect(fake.requests.length - before).toBe(1);
    expect(eventsOf(r.client, third.turnId, 'agent:end').map((e) => e.data.error.code)).toEqual(['BUDGET_EXCEEDED', 'BUDGET_EXCEEDED']);

    // A new UTC day: the budget is whole again.
    clock.set('2026-12-07T00:00:01.000Z');
    fake.setResponder(answerAs());
    const fourth = await send(r.client, r.roomId, r.sessionId, 'good morning');
    await turnEnd(r.client, fourth.turnId);
    // The Writer answers again (its 30 + 8 tokens on the new day's ledger); the Editor, whose
    // request now carries the long partial answer, would not fit the small budget and is refused.
    expect(eventsOf(r.client, fourth.turnId, 'agent:end')[0]!.data).toMatchObject({ agentKey: 'writer', status: 'complete' });
    expect(fake.requests.length - before).toBeGreaterThanOrEqual(2);
    const newDay = (await ledger(app, 'room', r.roomId)).at(-1)!;
    expect(newDay.day).toBe('2026-12-07');
    expect(newDay.spent).toBeGreaterThanOrEqual(38);
    expect(newDay.spent).toBeLessThanOrEqual(limit);
    r.client.close();
  });
});

describe(`user daily quota on ${testDb()}`, () => {
  let fake: FakeOpenAI;
  let app: TestApp;
  beforeAll(async () => {
    fake = await startFakeOpenAI();
    // Each answer reports 1000 + 8 tokens: one answer leaves a user 992 of 2000, two spend it.
    fake.setResponder(answerAs({ Writer: () => ({ text: 'Done.', usage: { promptTokens: 1000, completionTokens: 8 } }) }));
    app = await startTestApp({ env: fakeModelsEnv(fake, { USER_DAILY_TOKENS: '2000' }) });
  });
  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });

  it("stops that user's turns in every room, and no one else's", async () => {
    const agents = [{ key: 'writer', name: 'Writer' }];
    const roomA = await setupRoom(app, { mode: 'roundtable', agents, owner: 'alice-quota' });
    const roomB = await setupRoom(app, { mode: 'roundtable', agents, owner: 'alice-quota' });
    const bobs = await setupRoom(app, { mode: 'roundtable', agents, owner: 'bob-quota' });
    const alice = await app.api(roomA.owner, 'GET', '/auth/me');
    const bob = await app.api(bobs.owner, 'GET', '/auth/me');
    // Bob is a member of Alice's room A too.
    expect((await app.api(roomA.owner, 'POST', `/rooms/${roomA.roomId}/members`, { userId: bob.body.user.id })).status).toBe(201);

    for (const r of [roomA, roomB]) {
      const ack = await send(r.client, r.roomId, r.sessionId, 'go');
      expect((await turnEnd(r.client, ack.turnId)).status).toBe('completed');
    }
    expect((await ledger(app, 'user', alice.body.user.id))[0]!.spent).toBe(2016);

    // Alice's quota is spent: her turns in both rooms make no call.
    const before = fake.requests.length;
    for (const r of [roomA, roomB]) {
      const ack = await send(r.client, r.roomId, r.sessionId, 'again');
      const end = await turnEnd(r.client, ack.turnId);
      expect(end).toMatchObject({ status: 'failed', error: { code: 'BUDGET_EXCEEDED' } });
      expect(eventsOf(r.client, ack.turnId, 'agent:end')[0]!.data.error.details).toMatchObject({ budget: 'userDailyTokens' });
    }
    expect(fake.requests.length).toBe(before);

    // Bob is untouched: in his own room, and in Alice's.
    const bobInA = new TestClient(app.url, bobs.owner);
    await bobInA.connected();
    expect((await bobInA.request('room:join', { roomId: roomA.roomId })).ok).toBe(true);
    for (const [c, r] of [
      [bobs.client, bobs],
      [bobInA, roomA],
    ] as const) {
      const ack = await send(c, r.roomId, r.sessionId, 'my turn');
      expect((await turnEnd(c, ack.turnId)).status).toBe('completed');
    }
    expect((await ledger(app, 'user', bob.body.user.id))[0]!.spent).toBe(2016);
    expect(fake.requests.length).toBe(before + 2);
    for (const c of [bobInA, roomA.client, roomB.client, bobs.client]) c.close();
  });
});

describe(`usage records and answers on ${testDb()}`, () => {
  let fake: FakeOpenAI;
  let app: TestApp;
  beforeAll(async () => {
    fake = await startFakeOpenAI();
    app = await startTestApp({ env: fakeModelsEnv(fake, { CONTEXT_BUDGET_TOKENS: '100', ROOM_DAILY_TOKENS: '1000000' }) });
  });
  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });

  it('records each call as the model reported it, keeps infrastructure out of budgets, bills a refused call nothing, and sums every grouping to the rows', async () => {
    // Every reply reports its own usage, distinct per kind of call.
    const reported = new Map<number, { promptTokens: number; completionTokens: number }>();
    fake.setResponder((req) => {
      const system = JSON.stringify(req.body.messages[0]?.content ?? '');
      const name = agentNameOf(req);
      const usage = { promptTokens: 100 + req.index, completionTokens: 10 + req.index };
      reported.set(req.index, usage);
      if (system.includes('selected_agent_keys')) return { text: '{"selected_agent_keys": ["planner", "tester"]}', usage };
      if (name === 'Tester') return { status: 500 };
      if (name) return { text: `${name} has a long and thoughtful answer. `.repeat(12), usage };
      // The summary: generation answers, extraction is not JSON.
      if (/extract/i.test(system)) return { text: 'Topics: tea, and more tea.', usage };
      return { text: 'The team planned the launch of the new tea in detail.', usage };
    });
    const r = await setupRoom(app, { mode: 'orchestrator', agents: [{ key: 'planner', name: 'Planner' }, { key: 'tester', name: 'Tester' }] });
    const ack = await send(r.client, r.roomId, r.sessionId, 'Plan the launch of our new tea. '.repeat(10));
    const end = await turnEnd(r.client, ack.turnId);
    expect(end.status).toBe('partial');

    const rows = await app.orm.em.fork().find(LlmUsageEvent, { turn: ack.turnId }, { orderBy: { createdAt: 'asc' } });
    expect(rows.map((u) => [u.purpose, u.agentKey ?? null, u.status, u.charged])).toEqual([
      ['manager', null, 'completed', false],
      ['agent', 'planner', 'completed', true],
      ['agent', 'tester', 'failed', true],
      ['summary', null, 'completed', false],
      ['summary', null, 'completed', false],
    ]);
    // Every answered call is recorded with exactly what the model reported for it.
    const answered = fake.requests.filter((q) => q.outcome === 'completed' && reported.has(q.index) && agentNameOf(q) !== 'Tester');
    expect(rows.filter((u) => u.status === 'completed').map((u) => [u.inputTokens, u.outputTokens])).toEqual(
      answered.map((q) => [reported.get(q.index)!.promptTokens, reported.get(q.index)!.completionTokens]),
    );
    // The refused call (HTTP 500, no usage) bills nothing.
    expect(rows.find((u) => u.agentKey === 'tester')).toMatchObject({ inputTokens: 0, outputTokens: 0, costUsd: 0, estimated: false });

    // Only the agents' calls are charged: in turn:end, and in the room's and the user's ledgers.
    const charged = rows.filter((u) => u.charged);
    const infra = rows.filter((u) => !u.charged);
    const tokens = (list: LlmUsageEvent[]) => list.reduce((s, u) => s + u.inputTokens + u.outputTokens, 0);
    expect(end.usage).toMatchObject({ inputTokens: charged.reduce((s, u) => s + u.inputTokens, 0), outputTokens: charged.reduce((s, u) => s + u.outputTokens, 0) });
    expect(end.infrastructureUsage.inputTokens).toBe(infra.reduce((s, u) => s + u.inputTokens, 0));
    expect((await ledger(app, 'room', r.roomId))[0]!.spent).toBe(tokens(charged));
    const me = await app.api(r.owner, 'GET', '/auth/me');
    expect((await ledger(app, 'user', me.body.user.id))[0]!.spent).toBe(tokens(charged));

    // The audit marks infrastructure, and says which summary stage fell back and why.
    const audit = await app.api(r.owner, 'GET', `/sessions/${r.sessionId}/turns/${ack.turnId}`);
    expect(audit.body.usage.filter((u: any) => u.infrastructure).map((u: any) => u.purpose)).toEqual(['manager', 'summary', 'summary']);
    expect(audit.body.charged.inputTokens + audit.body.infrastructure.inputTokens).toBe(audit.body.totals.inputTokens);
    expect(audit.body.turn.summaryFallback).toEqual([{ stage: 'extraction', reason: 'the extraction answer was not a JSON object' }]);
    const sessions = await app.api(r.owner, 'GET', `/rooms/${r.roomId}/sessions`);
    expect(sessions.body.items.find((s: any) => s.id === r.sessionId).summaryFallback).toEqual(audit.body.turn.summaryFallback);

    // The usage answers' sums equal the rows, for every grouping, in the room and for the user.
    const all = await app.orm.em.fork().find(LlmUsageEvent, { room: r.roomId });
    const keyOf: Record<string, (u: LlmUsageEvent) => string | null> = {
      agent: (u) => u.agentKey ?? null,
      user: (u) => u.user?.id ?? null,
      day: (u) => u.createdAt.toISOString().slice(0, 10),
      purpose: (u) => u.purpose,
      room: (u) => u.room.id,
      alias: (u) => u.modelAlias,
    };
    for (const path of [`/rooms/${r.roomId}/usage`, '/users/me/usage']) {
      for (const groupBy of Object.keys(keyOf)) {
        const answer = await app.api(r.owner, 'GET', `${path}?groupBy=${groupBy}`);
        expect(answer.status, `${path} ${groupBy}`).toBe(200);
        const expected = new Map<string, { calls: number; inputTokens: number; outputTokens: number; cost: number }>();
        for (const u of all) {
          const k = `${keyOf[groupBy]!(u)}|${!u.charged}`;
          const e = expected.get(k) ?? { calls: 0, inputTokens: 0, outputTokens: 0, cost: 0 };
          expected.set(k, { calls: e.calls + 1, inputTokens: e.inputTokens + u.inputTokens, outputTokens: e.outputTokens + u.outputTokens, cost: e.cost + Math.round(Number(u.costUsd) * 1e8) });
        }
        const got = new Map<string, unknown>(
          answer.body.items.map((i: any) => [`${i.key}|${i.infrastructure}`, { calls: i.calls, inputTokens: i.inputTokens, outputTokens: i.outputTokens, cost: Math.round(i.costUsd * 1e8) }]),
        );
        expect(got, `${path} ${groupBy}`).toEqual(expected);
        expect(answer.body.totals).toMatchObject({ calls: all.length, inputTokens: all.reduce((s, u) => s + u.inputTokens, 0) });
        expect(answer.body.charged.calls + answer.body.infrastructure.calls).toBe(all.length);
      }
    }
    const bad = await app.api(r.owner, 'GET', `/rooms/${r.roomId}/usage?groupBy=model`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('VALIDATION_FAILED');
    const backwards = await app.api(r.owner, 'GET', `/users/me/usage?from=2026-12-06&to=2026-12-01`);
    expect(backwards.status).toBe(400);
    r.client.close();
  });
});

describe(`an agent's output per turn on ${testDb()}`, () => {
  let fake: FakeOpenAI;
  let app: TestApp;
  beforeAll(async () => {
    fake = await startFakeOpenAI();
    fake.setResponder(answerAs({ Writer: () => ({ text: longAnswer, chunkDelayMs: 1 }) }));
    app = await startTestApp({ env: fakeModelsEnv(fake, { AGENT_TURN_MAX_OUTPUT_TOKENS: '40' }) });
  });
  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });

  it('stops an agent at its output budget for the turn, and the next agent answers in full', async () => {
    const r = await setupRoom(app, { mode: 'roundtable', agents: [{ key: 'writer', name: 'Writer' }, { key: 'editor', name: 'Editor' }] });
    const ack = await send(r.client, r.roomId, r.sessionId, 'write a lot');
    expect((await turnEnd(r.client, ack.turnId)).status).toBe('partial');
    const [writer, editor] = eventsOf(r.client, ack.turnId, 'agent:end').map((e) => e.data);
    expect(writer).toMatchObject({ status: 'partial', error: { code: 'BUDGET_EXCEEDED', details: { budget: 'agentTurnOutputTokens', resetsAt: null } } });
    expect(writer!.usage.outputTokens).toBe(40);
    expect(editor).toMatchObject({ status: 'complete', usage: { inputTokens: 30, outputTokens: 8 } });
    expect(streamedText(r.client, ack.turnId).writer).toBe(longAnswer.slice(0, 160));
    r.client.close();
  });
});
