import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { Message, RoomMember, ToolApproval, ToolCallEvent, Turn, User } from '../../../src/db/entities';
import { startFakeOpenAI, transcriptOf, type FakeOpenAI, type RecordedRequest } from '../../helpers/fake-openai';
import { startFakeTavily, type FakeTavily } from '../../helpers/fake-tavily';
import { createTestDatabase } from '../../helpers/services';
import { TestClient } from '../../helpers/socket-client';
import { startTestApp, testDb, type TestApp } from '../../helpers/test-app';
import { agentNameOf, eventsOf, fakeModelsEnv, send, setupRoom, streamedText, turnEnd, type RoomSetup } from '../../helpers/turn-kit';

/**
 * The model of every agent here: it calls web_search first; once it has a tool result (the search
 * or a denial), it answers quoting it. A turn run again after a restart makes the same call (same
 * id and input) again.
 */
function searchingModel(fake: FakeOpenAI, query = 'widgets') {
  const calls: RecordedRequest[] = [];
  fake.setResponder((req) => {
    calls.push(req);
    const toolResult = [...req.body.messages].reverse().find((m) => m.role === 'tool');
    if (!toolResult) return { toolCalls: [{ id: 'call_search', name: 'web_search', args: { query } }] };
    const text = typeof toolResult.content === 'string' ? toolResult.content : JSON.stringify(toolResult.content);
    return { text: `${agentNameOf(req)} answers with: ${text.slice(0, 160)}` };
  });
  return calls;
}

async function addMember(app: TestApp, r: RoomSetup, sub: string, role: 'member' | 'viewer') {
  const token = app.token(sub, { name: sub });
  const me = await app.api(token, 'GET', '/auth/me');
  expect(me.status).toBe(200);
  if (role === 'member') {
    const added = await app.api(r.owner, 'POST', `/rooms/${r.roomId}/members`, { userId: me.body.user.id });
    expect(added.status).toBe(201);
  } else {
    // Straight through the ORM: the role is what matters here, not the route that grants it.
    const em = app.orm.em.fork();
    em.create(RoomMember, { room: r.roomId, user: em.getReference(User, me.body.user.id), role: 'viewer' });
    await em.flush();
  }
  const client = new TestClient(app.url, token);
  await client.connected();
  const join = await client.request('room:join', { roomId: r.roomId });
  expect(join.ok).toBe(true);
  return { token, userId: me.body.user.id as string, client };
}

const requested = (c: TestClient, turnId: string) =>
  c.until(() => eventsOf(c, turnId, 'tool:approval_requested').length > 0, 'tool:approval_requested', 20_000).then(() => eventsOf(c, turnId, 'tool:approval_requested')[0]!.data);

describe(`tool approvals on one node on ${testDb()}`, () => {
  let fake: FakeOpenAI;
  let tavily: FakeTavily;
  let app: TestApp;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    tavily = await startFakeTavily({
      apiKey: 'tvly-test-key',
      results: (q) => [{ title: `About ${q}`, url: 'https://example.test/a', content: `Fresh facts on ${q}: 42 widgets.` }],
    });
    app = await startTestApp({ env: fakeModelsEnv(fake, { TAVILY_API_KEY: 'tvly-test-key', TAVILY_BASE_URL: tavily.baseUrl, TOOL_APPROVAL_TIMEOUT_MS: '60000' }) });
  });
  afterAll(async () => {
    await app?.close();
    await fake?.close();
    await tavily?.close();
  });

  it('holds an `ask` call until a member approves it: a viewer cannot, the tool runs once and the answer uses it', async () => {
    const r = await setupRoom(app, { mode: 'manual', agents: [{ key: 'scout', name: 'Scout', toolPermissions: ['web_search'] }] });
    const patched = await app.api(r.owner, 'PATCH', `/rooms/${r.roomId}/agents/scout`, { toolApprovals: { web_search: 'ask' } });
    expect(patched.body.toolApprovals).toEqual({ web_search: 'ask' });
    const member = await addMember(app, r, `member-${Date.now()}`, 'member');
    const viewer = await addMember(app, r, `viewer-${Date.now()}`, 'viewer');
    const calls = searchingModel(fake);
    const searchesBefore = tavily.requests.length;
    try {
      const ack = await send(r.client, r.roomId, r.sessionId, '@scout how many widgets?');
      const ask = await requested(member.client, ack.turnId);
      expect(ask).toMatchObject({ turnId: ack.turnId, toolCallId: 'call_search', agentKey: 'scout', tool: 'web_search', input: { query: 'widgets' } });
      // Waiting: the tool has not run, the model was asked once.
      expect(tavily.requests.length).toBe(searchesBefore);
      expect(calls).toHaveLength(1);
      expect(eventsOf(r.client, ack.turnId, 'tool:start')).toHaveLength(0);

      // A rejoin shows the pending approval and the turn awaiting it.
      const late = new TestClient(app.url, r.owner);
      await late.connected();
      const join = await late.request('room:join', { roomId: r.roomId });
      late.close();
      expect(join.snapshot.pendingApprovals).toMatchObject([{ turnId: ack.turnId, toolCallId: 'call_search', tool: 'web_search', agentKey: 'scout' }]);
      expect(join.snapshot.turnsInFlight).toMatchObject([{ turnId: ack.turnId, status: 'awaiting_approval' }]);

      const refused = await viewer.client.request('tool:approve', { roomId: r.roomId, turnId: ack.turnId, toolCallId: 'call_search', decision: 'approve' });
      expect(refused).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
      const unknown = await member.client.request('tool:approve', { roomId: r.roomId, turnId: ack.turnId, toolCallId: 'call_other', decision: 'approve' });
      expect(unknown).toMatchObject({ ok: false, error: { code: 'APPROVAL_NOT_FOUND' } });

      const approved = await member.client.request('tool:approve', { roomId: r.roomId, turnId: ack.turnId, toolCallId: 'call_search', decision: 'approve', note: 'go ahead' });
      expect(approved).toMatchObject({ ok: true, decision: 'approve' });
      const end = await turnEnd(r.client, ack.turnId);
      expect(end.status).toBe('completed');

      const again = await member.client.request('tool:approve', { roomId: r.roomId, turnId: ack.turnId, toolCallId: 'call_search', decision: 'deny' });
      expect(again).toMatchObject({ ok: false, error: { code: 'APPROVAL_NOT_PENDING' } });

      expect(tavily.requests.length).toBe(searchesBefore + 1);
      expect(transcriptOf(calls[1]!)).toContain('42 widgets');
      expect(streamedText(r.client, ack.turnId).scout).toContain('42 widgets');
      const order = eventsOf(r.client, ack.turnId).map((e) => e.event).filter((e) => e.startsWith('tool:'));
      expect(order).toEqual(['tool:approval_requested', 'tool:approval_resolved', 'tool:start', 'tool:progress', 'tool:progress', 'tool:end']);
      const resolved = eventsOf(r.client, ack.turnId, 'tool:approval_resolved')[0]!.data;
      expect(resolved).toMatchObject({ toolCallId: 'call_search', by: member.userId, decision: 'approve', reason: 'member', note: 'go ahead' });
      expect(eventsOf(viewer.client, ack.turnId, 'tool:approval_resolved')).toHaveLength(1);

      const rows = await app.orm.em.fork().find(ToolCallEvent, { turn: ack.turnId });
      expect(rows.map((t) => [t.toolName, t.status, t.approval?.decision, t.approval?.by])).toEqual([['web_search', 'succeeded', 'approve', member.userId]]);
      expect(typeof rows[0]!.approval?.decidedAt).toBe('string');
      const audit = await app.api(r.owner, 'GET', `/sessions/${r.sessionId}/turns/${ack.turnId}`);
      expect(audit.body.toolCalls[0].approval).toMatchObject({ decision: 'approve', reason: 'member', by: member.userId, note: 'go ahead' });
      const pending = await app.api(r.owner, 'GET', `/rooms/${r.roomId}/approvals`);
      expect(pending.body.items).toEqual([]);
    } finally {
      r.client.close();
      member.client.close();
      viewer.client.close();
    }
  }, 60_000);

  it('gives the model a member’s denial (over REST) as the tool result, and the agent still answers', async () => {
    const r = await setupRoom(app, { mode: 'manual', agents: [{ key: 'scout', name: 'Scout', toolPermissions: ['web_search'] }] });
    await app.api(r.owner, 'PATCH', `/rooms/${r.roomId}/agents/scout`, { toolApprovals: { web_search: 'ask' } });
    const calls = searchingModel(fake);
    const searchesBefore = tavily.requests.length;
    try {
      const ack = await send(r.client, r.roomId, r.sessionId, '@scout search something');
      await requested(r.client, ack.turnId);
      const listed = await app.api(r.owner, 'GET', `/rooms/${r.roomId}/approvals`);
      expect(listed.body.items).toMatchObject([{ turnId: ack.turnId, toolCallId: 'call_search' }]);
      const bad = await app.api(r.owner, 'POST', `/rooms/${r.roomId}/turns/${ack.turnId}/approvals/call_search`, { decision: 'maybe' });
      expect(bad.status).toBe(400);
      const denied = await app.api(r.owner, 'POST', `/rooms/${r.roomId}/turns/${ack.turnId}/approvals/call_search`, { decision: 'deny', note: 'not now' });
      expect(denied.status).toBe(200);
      const end = await turnEnd(r.client, ack.turnId);
      expect(end.status).toBe('completed');
      expect(tavily.requests.length).toBe(searchesBefore);
      expect(transcriptOf(calls[1]!)).toContain('denied (a member of the room denied it): not now');
      expect(streamedText(r.client, ack.turnId).scout).toContain('denied');
      const toolEnd = eventsOf(r.client, ack.turnId, 'tool:end')[0]!.data;
      expect(toolEnd).toMatchObject({ status: 'failed', approval: { decision: 'deny', reason: 'member' } });
    } finally {
      r.client.close();
    }
  }, 60_000);

  it('refuses a call under `deny` without asking anyone; the agent answers without it', async () => {
    const r = await setupRoom(app, { mode: 'manual', agents: [{ key: 'scout', name: 'Scout', toolPermissions: ['web_search'] }] });
    await app.api(r.owner, 'PATCH', `/rooms/${r.roomId}/agents/scout`, { toolApprovals: { web_search: 'deny' } });
    const calls = searchingModel(fake);
    const searchesBefore = tavily.requests.length;
    try {
      const ack = await send(r.client, r.roomId, r.sessionId, '@scout search something');
      const end = await turnEnd(r.client, ack.turnId);
      expect(end.status).toBe('completed');
      expect(eventsOf(r.client, ack.turnId, 'tool:approval_requested')).toHaveLength(0);
      expect(tavily.requests.length).toBe(searchesBefore);
      expect(transcriptOf(calls[1]!)).toContain('this agent is not allowed to run it');
      const rows = await app.orm.em.fork().find(ToolCallEvent, { turn: ack.turnId });
      expect(rows.map((t) => [t.status, t.approval?.decision, t.approval?.reason])).toEqual([['failed', 'deny', 'policy']]);
    } finally {
      r.client.close();
    }
  }, 60_000);

  it('refuses policies for unknown tools and values other than auto, ask, deny', async () => {
    const r = await setupRoom(app, { mode: 'manual', agents: [{ key: 'scout', name: 'Scout', toolPermissions: ['web_search'] }] });
    try {
      const unknown = await app.api(r.owner, 'PATCH', `/rooms/${r.roomId}/agents/scout`, { toolApprovals: { shell: 'ask' } });
      expect(unknown.status).toBe(400);
      expect(unknown.body.error.code).toBe('UNKNOWN_TOOL');
      const value = await app.api(r.owner, 'PATCH', `/rooms/${r.roomId}/agents/scout`, { toolApprovals: { web_search: 'sometimes' } });
      expect(value.status).toBe(400);
      const mcp = await app.api(r.owner, 'PATCH', `/rooms/${r.roomId}/agents/scout`, { toolPermissions: ['mcp.nowhere.echo'] });
      expect(mcp.status).toBe(400);
      expect(mcp.body.error.code).toBe('UNKNOWN_TOOL');
      const agent = await app.api(r.owner, 'GET', `/rooms/${r.roomId}/agents/scout`);
      expect(agent.body).toMatchObject({ toolPermissions: ['web_search'], toolApprovals: {} });
    } finally {
      r.client.close();
    }
  });

  it('cancels a turn while it waits: the approval is closed and the turn ends cancelled', async () => {
    const r = await setupRoom(app, { mode: 'manual', agents: [{ key: 'scout', name: 'Scout', toolPermissions: ['web_search'] }] });
    await app.api(r.owner, 'PATCH', `/rooms/${r.roomId}/agents/scout`, { toolApprovals: { web_search: 'ask' } });
    searchingModel(fake);
    try {
      const ack = await send(r.client, r.roomId, r.sessionId, '@scout search something');
      await requested(r.client, ack.turnId);
      const next = await send(r.client, r.roomId, r.sessionId, '@scout and then?');
      // The session's queue waits behind the turn that waits.
      expect(eventsOf(r.client, next.turnId, 'turn:started')).toHaveLength(0);
      const cancel = await r.client.request('turn:cancel', { roomId: r.roomId, turnId: ack.turnId });
      expect(cancel).toMatchObject({ ok: true, cancelRequested: true });
      const end = await turnEnd(r.client, ack.turnId);
      expect(end.status).toBe('cancelled');
      expect(eventsOf(r.client, ack.turnId, 'tool:approval_resolved')[0]?.data).toMatchObject({ decision: 'deny', reason: 'cancelled', by: null });
      const row = await app.orm.em.fork().findOneOrFail(ToolApproval, { turn: ack.turnId });
      expect([row.status, row.reason]).toEqual(['denied', 'cancelled']);
      // The next turn waits for its own approval now; cancel it too.
      await requested(r.client, next.turnId);
      await r.client.request('turn:cancel', { roomId: r.roomId, turnId: next.turnId });
      expect((await turnEnd(r.client, next.turnId)).status).toBe('cancelled');
    } finally {
      r.client.close();
    }
  }, 60_000);
});

describe(`tool approvals that time out or outlive their node on ${testDb()}`, () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'pantheon-approvals-'));
  let fake: FakeOpenAI;
  let tavily: FakeTavily;
  let drop: (() => Promise<void>) | undefined;
  let databaseUrl: string | undefined;
  const apps: TestApp[] = [];

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    tavily = await startFakeTavily({ apiKey: 'tvly-test-key', results: (q) => [{ title: q, url: 'https://example.test/b', content: `Stored facts on ${q}: 7 gadgets.` }] });
    if (testDb() === 'postgres') {
      const db = await createTestDatabase();
      drop = db.drop;
      databaseUrl = db.url;
    }
  });
  afterAll(async () => {
    for (const a of apps) await a.close().catch(() => undefined);
    await drop?.();
    await fake?.close();
    await tavily?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function start(timeoutMs: number) {
    // Every start shares one database (and DATA_DIR): a later start is the restart.
    const app = await startTestApp({
      dataDir,
      databaseUrl,
      env: fakeModelsEnv(fake, { TAVILY_API_KEY: 'tvly-test-key', TAVILY_BASE_URL: tavily.baseUrl, TOOL_APPROVAL_TIMEOUT_MS: String(timeoutMs) }),
    });
    apps.push(app);
    return app;
  }
  async function stop(app: TestApp) {
    apps.splice(apps.indexOf(app), 1);
    await app.close();
  }

  it('counts an unanswered approval as denied at its timeout; the agent still answers', async () => {
    const app = await start(1500);
    const r = await setupRoom(app, { mode: 'manual', agents: [{ key: 'scout', name: 'Scout', toolPermissions: ['web_search'] }] });
    await app.api(r.owner, 'PATCH', `/rooms/${r.roomId}/agents/scout`, { toolApprovals: { web_search: 'ask' } });
    const calls = searchingModel(fake, 'gadgets');
    const searchesBefore = tavily.requests.length;
    try {
      const ack = await send(r.client, r.roomId, r.sessionId, '@scout search');
      const end = await turnEnd(r.client, ack.turnId, 30_000);
      expect(end.status).toBe('completed');
      expect(eventsOf(r.client, ack.turnId, 'tool:approval_resolved')[0]?.data).toMatchObject({ decision: 'deny', reason: 'timeout', by: null });
      expect(tavily.requests.length).toBe(searchesBefore);
      expect(transcriptOf(calls.at(-1)!)).toContain('nobody approved it in time');
      expect(streamedText(r.client, ack.turnId).scout).toContain('denied');
      const late = await app.api(r.owner, 'POST', `/rooms/${r.roomId}/turns/${ack.turnId}/approvals/call_search`, { decision: 'approve' });
      expect(late.status).toBe(409);
      expect(late.body.error).toMatchObject({ code: 'APPROVAL_NOT_PENDING', details: { status: 'denied', reason: 'timeout' } });
    } finally {
      r.client.close();
      await stop(app);
    }
  }, 90_000);

  it('keeps a pending approval across a restart of the node: answered afterwards, the turn completes with the tool run once', async () => {
    const first = await start(120_000);
    const r = await setupRoom(first, { mode: 'manual', agents: [{ key: 'scout', name: 'Scout', toolPermissions: ['web_search'] }] });
    await first.api(r.owner, 'PATCH', `/rooms/${r.roomId}/agents/scout`, { toolApprovals: { web_search: 'ask' } });
    const calls = searchingModel(fake, 'gadgets');
    const searchesBefore = tavily.requests.length;
    const ack = await send(r.client, r.roomId, r.sessionId, '@scout search gadgets');
    await requested(r.client, ack.turnId);
    const nextRequest = fake.requests.length;
    r.client.close();
    await stop(first);

    const second = await start(120_000);
    const client = new TestClient(second.url, r.owner);
    try {
      await client.connected();
      const join = await client.request('room:join', { roomId: r.roomId });
      expect(join.ok).toBe(true);
      // The turn runs again on the restarted node and waits on the same stored approval.
      // The turn runs again on the restarted node: its model is asked again.
      await fake.waitForRequest(nextRequest);
      const pending = await second.api(r.owner, 'GET', `/rooms/${r.roomId}/approvals`);
      expect(pending.body.items).toMatchObject([{ turnId: ack.turnId, toolCallId: 'call_search' }]);
      const approved = await client.request('tool:approve', { roomId: r.roomId, turnId: ack.turnId, toolCallId: 'call_search', decision: 'approve' });
      expect(approved.ok).toBe(true);
      const end = await turnEnd(client, ack.turnId, 30_000);
      expect(end.status).toBe('completed');
      expect(tavily.requests.length).toBe(searchesBefore + 1);
      expect(streamedText(client, ack.turnId).scout).toContain('7 gadgets');
      expect(transcriptOf(calls.at(-1)!)).toContain('7 gadgets');
      const rows = await second.orm.em.fork().find(ToolCallEvent, { turn: ack.turnId });
      expect(rows.map((t) => [t.status, t.approval?.decision])).toEqual([['succeeded', 'approve']]);
      const approvals = await second.orm.em.fork().find(ToolApproval, { turn: ack.turnId });
      expect(approvals).toHaveLength(1);
    } finally {
      client.close();
      await stop(second);
    }
  }, 120_000);

  it('runs again a turn a crashed node left waiting for an approval (the sweep requeues it instead of interrupting it), applying the stored answer', async () => {
    const first = await start(120_000);
    const r = await setupRoom(first, { mode: 'manual', agents: [{ key: 'scout', name: 'Scout', toolPermissions: ['web_search'] }] });
    await first.api(r.owner, 'PATCH', `/rooms/${r.roomId}/agents/scout`, { toolApprovals: { web_search: 'ask' } });
    const owner = (await first.api(r.owner, 'GET', '/auth/me')).body.user.id as string;
    r.client.close();
    // What a node that died mid-wait leaves: its turn `running`, its call's approval stored and pending.
    const em = first.orm.em.fork();
    const turn = em.create(Turn, {
      room: r.roomId, session: r.sessionId, requestedBy: owner, mode: 'manual', status: 'running',
      startedAt: new Date(), heartbeatAt: new Date(), queueAnnouncedAt: new Date(), runnerId: randomUUID(),
    });
    em.create(Message, { room: r.roomId, session: r.sessionId, turn, authorType: 'user', authorUser: owner, content: '@scout search gadgets', clientMsgId: 'crash-1', status: 'complete' });
    em.create(ToolApproval, {
      room: r.roomId, session: r.sessionId, turn, agentKey: 'scout', toolCallId: 'call_search', toolName: 'web_search',
      input: { query: 'gadgets' }, inputKey: '{"query":"gadgets"}', status: 'pending', expiresAt: new Date(Date.now() + 120_000),
    });
    await em.flush();
    await stop(first);

    searchingModel(fake, 'gadgets');
    const searchesBefore = tavily.requests.length;
    const nextRequest = fake.requests.length;
    const second = await start(120_000);
    const client = new TestClient(second.url, r.owner);
    try {
      await client.connected();
      expect((await client.request('room:join', { roomId: r.roomId })).ok).toBe(true);
      await fake.waitForRequest(nextRequest);
      const approved = await client.request('tool:approve', { roomId: r.roomId, turnId: turn.id, toolCallId: 'call_search', decision: 'approve' });
      expect(approved.ok).toBe(true);
      const end = await turnEnd(client, turn.id, 30_000);
      expect(end.status).toBe('completed');
      expect(tavily.requests.length).toBe(searchesBefore + 1);
      expect(streamedText(client, turn.id).scout).toContain('7 gadgets');
      // The run again asked nobody anew: the stored approval was the one answered.
      expect(eventsOf(client, turn.id, 'tool:approval_requested')).toHaveLength(0);
      expect(await second.orm.em.fork().count(ToolApproval, { turn: turn.id })).toBe(1);
    } finally {
      client.close();
    }
  }, 120_000);
});
