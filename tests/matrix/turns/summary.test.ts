import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LlmUsageEvent, Session } from '../../../src/db/entities';
import { startFakeOpenAI, type FakeOpenAI } from '../../helpers/fake-openai';
import { startTestApp, testDb, type TestApp } from '../../helpers/test-app';
import { agentNameOf, eventsOf, fakeModelsEnv, send, setupRoom, turnEnd } from '../../helpers/turn-kit';

describe(`session summary on ${testDb()}`, () => {
  let fake: FakeOpenAI;
  let app: TestApp;
  beforeAll(async () => {
    fake = await startFakeOpenAI();
    app = await startTestApp({ env: fakeModelsEnv(fake, { CONTEXT_BUDGET_TOKENS: '100' }) });
  });
  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });

  it('summarizes when the context exceeds its budget, in the same commit as the turn', async () => {
    const extractionAnswer = '{"topics": ["launch"], "decisions": ["ship in March"], "open_questions": ["budget?"]}';
    fake.setResponder((req) => {
      const system = JSON.stringify(req.body.messages[0]?.content ?? '');
      if (agentNameOf(req) === 'Writer') return { text: 'A long answer. '.repeat(40) };
      if (/extract|json/i.test(system)) return { text: extractionAnswer };
      return { text: 'The team discussed the launch and decided to ship in March.' };
    });
    const r = await setupRoom(app, { mode: 'manual', agents: [{ key: 'writer', name: 'Writer' }] });
    const ack = await send(r.client, r.roomId, r.sessionId, '@writer ' + 'Please plan the launch in detail. '.repeat(20));
    expect((await turnEnd(r.client, ack.turnId)).status).toBe('completed');
    const names = eventsOf(r.client, ack.turnId).map((e) => e.event);
    expect(names.indexOf('summary:started')).toBeGreaterThan(names.lastIndexOf('agent:end'));
    expect(names.indexOf('summary:updated')).toBeLessThan(names.indexOf('turn:end'));
    const updated = eventsOf(r.client, ack.turnId, 'summary:updated')[0]!.data;
    expect(updated.summary).toContain('ship in March');
    const session = await app.orm.em.fork().findOneOrFail(Session, { id: r.sessionId });
    expect(session.summary).toBe(updated.summary);
    expect(session.summaryData?.usedFallback).toBe(updated.usedFallback);
    const purposes = (await app.orm.em.fork().find(LlmUsageEvent, { turn: ack.turnId })).map((u) => u.purpose);
    expect(purposes.filter((p) => p === 'summary').length).toBeGreaterThanOrEqual(1);
    const audit = await app.api(r.owner, 'GET', `/sessions/${r.sessionId}/turns/${ack.turnId}`);
    expect(audit.body.turn.summaryTriggered).toBe(true);
  });
});
