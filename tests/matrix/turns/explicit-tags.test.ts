import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../../helpers/fake-openai';
import { startTestApp, type TestApp } from '../../helpers/test-app';
import { agentNameOf, answerAs, eventsOf, fakeModelsEnv, send, setupRoom, turnEnd } from '../../helpers/turn-kit';

// Tags are explicit: an orchestrator plan always has the agents a message tagged, and a manual
// turn says the tags that named no agent.
describe('explicit tags', () => {
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

  const team = [
    { key: 'researcher', name: 'Researcher' },
    { key: 'writer', name: 'Writer' },
    { key: 'critic', name: 'Critic' },
  ];

  it('orchestrator: agents tagged in the message join the manager plan that left them out', async () => {
    fake.setResponder(answerAs({}, () => ({ text: '{"selected_agent_keys": ["researcher", "critic"]}' })));
    const r = await setupRoom(app, { mode: 'orchestrator', agents: team });
    try {
      const start = fake.requests.length;
      const ack = await send(r.client, r.roomId, r.sessionId, '@writer @critic draft and review the intro');
      expect((await turnEnd(r.client, ack.turnId)).status).toBe('completed');
      const plan = eventsOf(r.client, ack.turnId, 'turn:plan')[0]!.data;
      expect(plan).toMatchObject({ agentKeys: ['researcher', 'writer', 'critic'], fallback: false, reason: "tagged agents added to the manager's plan: @writer" });
      const spoke = fake.requests.slice(start).map(agentNameOf).filter(Boolean);
      expect(spoke).toEqual(['Researcher', 'Writer', 'Critic']);
      const audit = await app.api(r.owner, 'GET', `/sessions/${r.sessionId}/turns/${ack.turnId}`);
      expect(audit.body.turn.plan).toEqual(['researcher', 'writer', 'critic']);
    } finally {
      r.client.close();
    }
  });

  it('manual: a tag that names no agent is said in the plan and in a system message of the turn', async () => {
    fake.setResponder(answerAs());
    const r = await setupRoom(app, { mode: 'manual', agents: team });
    try {
      const ack = await send(r.client, r.roomId, r.sessionId, '@writer and @nobody, please');
      expect((await turnEnd(r.client, ack.turnId)).status).toBe('completed');
      expect(eventsOf(r.client, ack.turnId, 'turn:plan')[0]!.data).toMatchObject({ agentKeys: ['writer'], reason: 'no agent named @nobody' });
      const notices = r.client.roomEvents(r.roomId, 'message:created').filter((e) => e.data.message.turnId === ack.turnId && e.data.message.authorType === 'system');
      expect(notices.map((e) => e.data.message.content)).toEqual([
        'No agent named @nobody in this room. Its agents: @researcher (Researcher), @writer (Writer), @critic (Critic).',
      ]);
      // Only tags that name nobody: no agent runs, and the notice says so.
      const none = await send(r.client, r.roomId, r.sessionId, '@Nobody?');
      await turnEnd(r.client, none.turnId);
      const said = r.client.roomEvents(r.roomId, 'message:created').find((e) => e.data.message.turnId === none.turnId && e.data.message.authorType === 'system');
      expect(said?.data.message.content).toMatch(/^No agent named @Nobody in this room/);
      const history = await app.api(r.owner, 'GET', `/sessions/${r.sessionId}/messages`);
      expect(history.body.items.filter((m: any) => m.authorType === 'system')).toHaveLength(2);
    } finally {
      r.client.close();
    }
  });
});
