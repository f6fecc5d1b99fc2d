import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LlmUsageEvent, Turn } from '../../../src/db/entities';
import { startFakeOpenAI, type FakeOpenAI } from '../../helpers/fake-openai';
import { TestClient } from '../../helpers/socket-client';
import { startTwoNodes, type TestApp } from '../../helpers/test-app';
import { answerAs, eventsOf, fakeModelsEnv, send, setupRoom, turnEnd } from '../../helpers/turn-kit';

// Two server nodes on one PostgreSQL database and one Redis, two turns racing for a room's budget.
describe('a room budget across two nodes', () => {
  let fake: FakeOpenAI;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    const env = fakeModelsEnv(fake, { MAX_OUTPUT_TOKENS: '400' });
    ({ a, b } = await startTwoNodes({ env }));
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await fake?.close();
  });

  it('never charges more than the budget plus one call’s reservation when two turns on two nodes race for its last part', async () => {
    // Long, slow answers without reported usage: each call is charged what it streamed, estimated.
    const words = Array.from({ length: 800 }, (_, i) => ({ text: `w${i % 10} `, delayMs: 2 }));
    fake.setResponder(answerAs({ Writer: () => ({ text: words, omitUsage: true }) }));
    const r = await setupRoom(a, { mode: 'manual', agents: [{ key: 'writer', name: 'Writer' }] });
    // Each request is about 200 tokens and may produce up to 400: the last 700 tokens of the day
    // cover one call whole, not two.
    const limit = 700;
    expect((await a.api(r.owner, 'PATCH', `/rooms/${r.roomId}`, { settings: { budget: { dailyTokens: limit } } })).status).toBe(200);
    const second = await a.api(r.owner, 'POST', `/rooms/${r.roomId}/sessions`, { title: 'other' });
    const onB = new TestClient(b.url, r.owner);
    await onB.connected();
    try {
      expect((await onB.request('room:join', { roomId: r.roomId })).ok).toBe(true);
      const [x, y] = await Promise.all([
        send(r.client, r.roomId, r.sessionId, '@writer the first chapter'),
        send(onB, r.roomId, second.body.id, '@writer the second chapter'),
      ]);
      await Promise.all([turnEnd(r.client, x.turnId, 60_000), turnEnd(r.client, y.turnId, 60_000)]);

      // They ran on different nodes.
      const turns = await a.orm.em.fork().find(Turn, { id: { $in: [x.turnId, y.turnId] } });
      expect(new Set(turns.map((t) => t.runnerId)).size).toBe(2);

      const rows = await a.orm.em.fork().find(LlmUsageEvent, { room: r.roomId });
      const charged = rows.reduce((s, u) => s + u.inputTokens + u.outputTokens, 0);
      const biggestCall = Math.max(...rows.map((u) => u.inputTokens + u.outputTokens));
      const [ledger] = await a.orm.em
        .fork()
        .getConnection()
        .execute<{ spent_tokens: string; reserved_tokens: string }[]>(`select "spent_tokens", "reserved_tokens" from "budget_ledger" where "scope" = 'room' and "scope_id" = ?`, [
          r.roomId,
        ]);
      expect(Number(ledger!.reserved_tokens)).toBe(0);
      expect(Number(ledger!.spent_tokens)).toBe(charged);
      expect(charged).toBeLessThanOrEqual(limit + biggestCall);
      // Reservations keep it at the limit itself here: the estimates that reserve are the ones that charge.
      expect(charged).toBeLessThanOrEqual(limit);
      // One of the two could not have its whole answer: it was stopped or refused by the budget.
      const ends = [x, y].flatMap((t) => eventsOf(r.client, t.turnId, 'agent:end').map((e) => e.data));
      expect(ends.filter((e) => e.error?.code === 'BUDGET_EXCEEDED').length).toBeGreaterThanOrEqual(1);
    } finally {
      onB.close();
      r.client.close();
    }
  });
});
