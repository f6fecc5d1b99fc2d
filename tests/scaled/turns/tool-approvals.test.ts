import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ToolCallEvent, Turn } from '../../../src/db/entities';
import { startFakeOpenAI, transcriptOf, type FakeOpenAI, type RecordedRequest } from '../../helpers/fake-openai';
import { startFakeTavily, type FakeTavily } from '../../helpers/fake-tavily';
import { createTestDatabase, uniqueRedisPrefix } from '../../helpers/services';
import { TestClient } from '../../helpers/socket-client';
import { startTestApp, type TestApp } from '../../helpers/test-app';
import { eventsOf, fakeModelsEnv, send, setupRoom, streamedText, turnEnd } from '../../helpers/turn-kit';

// Two server nodes on one PostgreSQL database and one Redis: a tool call waits on one node and is
// approved through the other; and a node that shuts down while a call waits leaves the turn to the other.
describe('tool approvals across two nodes', () => {
  let fake: FakeOpenAI;
  let tavily: FakeTavily;
  let a: TestApp;
  let b: TestApp;
  const calls: RecordedRequest[] = [];
  let drop: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    tavily = await startFakeTavily({ apiKey: 'tvly-test-key', results: (q) => [{ title: q, url: 'https://example.test/c', content: `Cluster facts on ${q}: 9 nodes.` }] });
    fake.setResponder((req) => {
      calls.push(req);
      const toolResult = [...req.body.messages].reverse().find((m) => m.role === 'tool');
      if (!toolResult) return { toolCalls: [{ id: 'call_search', name: 'web_search', args: { query: 'clusters' } }] };
      return { text: `Scout answers with: ${String(toolResult.content).slice(0, 160)}` };
    });
    const redisKeyPrefix = uniqueRedisPrefix();
    const env = fakeModelsEnv(fake, { TAVILY_API_KEY: 'tvly-test-key', TAVILY_BASE_URL: tavily.baseUrl, TOOL_APPROVAL_TIMEOUT_MS: '120000' });
    // The database outlives node A, which the second test shuts down.
    const db = await createTestDatabase();
    drop = db.drop;
    a = await startTestApp({ db: 'postgres', redis: true, redisKeyPrefix, env, databaseUrl: db.url });
    b = await startTestApp({ db: 'postgres', redis: true, redisKeyPrefix, env, databaseUrl: db.url });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close().catch(() => undefined);
    await drop?.();
    await fake?.close();
    await tavily?.close();
  });

  async function memberOn(node: TestApp, r: { owner: string; roomId: string }, sub: string) {
    const token = node.token(sub, { name: sub });
    const me = await node.api(token, 'GET', '/auth/me');
    expect((await node.api(r.owner, 'POST', `/rooms/${r.roomId}/members`, { userId: me.body.user.id })).status).toBe(201);
    const client = new TestClient(node.url, token);
    await client.connected();
    expect((await client.request('room:join', { roomId: r.roomId })).ok).toBe(true);
    return { client, userId: me.body.user.id as string };
  }

  it('waits on the node running the turn and is approved by a member on the other node; the tool runs once and the answer uses it', async () => {
    const r = await setupRoom(a, { mode: 'manual', agents: [{ key: 'scout', name: 'Scout', toolPermissions: ['web_search'] }] });
    await a.api(r.owner, 'PATCH', `/rooms/${r.roomId}/agents/scout`, { toolApprovals: { web_search: 'ask' } });
    const member = await memberOn(b, r, `approver-${Date.now()}`);
    const searchesBefore = tavily.requests.length;
    try {
      const ack = await send(r.client, r.roomId, r.sessionId, '@scout how big is the cluster?');
      await member.client.until(() => eventsOf(member.client, ack.turnId, 'tool:approval_requested').length > 0, 'approval requested on B', 20_000);
      // Node B's snapshot shows the pending approval, stored, though the turn runs on A.
      const late = new TestClient(b.url, r.owner);
      await late.connected();
      const join = await late.request('room:join', { roomId: r.roomId });
      late.close();
      expect(join.snapshot.pendingApprovals).toMatchObject([{ turnId: ack.turnId, toolCallId: 'call_search' }]);
      expect(join.snapshot.turnsInFlight).toMatchObject([{ turnId: ack.turnId, status: 'awaiting_approval' }]);

      const approved = await member.client.request('tool:approve', { roomId: r.roomId, turnId: ack.turnId, toolCallId: 'call_search', decision: 'approve' });
      expect(approved).toMatchObject({ ok: true, decision: 'approve' });
      const end = await turnEnd(r.client, ack.turnId);
      expect(end.status).toBe('completed');
      expect(tavily.requests.length).toBe(searchesBefore + 1);
      expect(streamedText(member.client, ack.turnId).scout).toContain('9 nodes');
      for (const c of [r.client, member.client]) {
        expect(eventsOf(c, ack.turnId, 'tool:approval_resolved').map((e) => [e.data.by, e.data.decision])).toEqual([[member.userId, 'approve']]);
      }
      const rows = await a.orm.em.fork().find(ToolCallEvent, { turn: ack.turnId });
      expect(rows.map((t) => [t.status, t.approval?.by])).toEqual([['succeeded', member.userId]]);
    } finally {
      r.client.close();
      member.client.close();
    }
  }, 60_000);

  it('leaves a turn waiting on a node that shuts down to the other node, where the approval is answered and the turn completes', async () => {
    const r = await setupRoom(a, { mode: 'manual', agents: [{ key: 'scout', name: 'Scout', toolPermissions: ['web_search'] }] });
    await a.api(r.owner, 'PATCH', `/rooms/${r.roomId}/agents/scout`, { toolApprovals: { web_search: 'ask' } });
    const member = await memberOn(b, r, `survivor-${Date.now()}`);
    const searchesBefore = tavily.requests.length;
    try {
      const ack = await send(r.client, r.roomId, r.sessionId, '@scout search the cluster');
      await member.client.until(() => eventsOf(member.client, ack.turnId, 'tool:approval_requested').length > 0, 'approval requested', 20_000);
      const nextRequest = fake.requests.length;
      r.client.close();
      await a.close();
      expect((await b.orm.em.fork().findOneOrFail(Turn, { id: ack.turnId })).status).toBe('queued');
      // B's sweep starts the turn again; its call finds the stored approval, still pending.
      await fake.waitForRequest(nextRequest);
      const approved = await member.client.request('tool:approve', { roomId: r.roomId, turnId: ack.turnId, toolCallId: 'call_search', decision: 'approve' });
      expect(approved.ok).toBe(true);
      const end = await turnEnd(member.client, ack.turnId, 30_000);
      expect(end.status).toBe('completed');
      expect(tavily.requests.length).toBe(searchesBefore + 1);
      expect(transcriptOf(calls.at(-1)!)).toContain('9 nodes');
      expect(eventsOf(member.client, ack.turnId, 'turn:end')).toHaveLength(1);
    } finally {
      member.client.close();
    }
  }, 90_000);
});
