import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ToolCallEvent } from '../../../src/db/entities';
import { startFakeMcpHttp, MCP_STDIO_SERVER, type FakeMcpHttp } from '../../helpers/fake-mcp';
import { startFakeOpenAI, toolNamesOf, transcriptOf, type FakeOpenAI, type RecordedRequest } from '../../helpers/fake-openai';
import { startTestApp, testDb, type TestApp } from '../../helpers/test-app';
import { agentNameOf, eventsOf, fakeModelsEnv, send, setupRoom, streamedText, turnEnd } from '../../helpers/turn-kit';

/**
 * Each agent's model calls its tool (by the name the model sees) once when it is offered, then
 * answers with the tool's result; an agent not offered the tool just answers.
 */
function toolCallingModel(fake: FakeOpenAI, plan: Record<string, { tool: string; args: Record<string, unknown> }>) {
  const byAgent = new Map<string, RecordedRequest[]>();
  fake.setResponder((req) => {
    const name = agentNameOf(req) ?? 'unknown';
    byAgent.set(name, [...(byAgent.get(name) ?? []), req]);
    const toolResult = [...req.body.messages].reverse().find((m) => m.role === 'tool');
    if (toolResult) {
      const text = typeof toolResult.content === 'string' ? toolResult.content : JSON.stringify(toolResult.content);
      return { text: `${name} read: ${text.slice(0, 200)}` };
    }
    const p = plan[name];
    if (p && toolNamesOf(req).includes(p.tool)) return { toolCalls: [{ id: `call_${name.toLowerCase()}`, name: p.tool, args: p.args }] };
    return { text: `${name} answers without tools.` };
  });
  return byAgent;
}

describe(`MCP tools through a whole turn on ${testDb()}`, () => {
  let fake: FakeOpenAI;
  let mcp: FakeMcpHttp;
  let app: TestApp;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    mcp = await startFakeMcpHttp('files');
    const servers = [
      { name: 'files', url: mcp.url, headers: { Authorization: 'MCP_FILES_TOKEN' } },
      { name: 'local', command: process.execPath, args: [MCP_STDIO_SERVER], env: { MCP_TEST_SECRET: 'MCP_LOCAL_SECRET' } },
    ];
    app = await startTestApp({
      env: fakeModelsEnv(fake, {
        MCP_SERVERS: JSON.stringify(servers),
        MCP_FILES_TOKEN: 'Bearer mcp-files-token-123456',
        MCP_LOCAL_SECRET: 'stdio-secret-456789',
        MCP_RECONNECT_MS: '100',
        MCP_TOOL_TIMEOUT_MS: '5000',
      }),
    });
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await mcp?.stop().catch(() => undefined);
    await fake?.close();
  });

  it('lists the tools of both servers with their input schemas, reaching the HTTP one with its header from the environment', async () => {
    const token = app.token('lister');
    const res = await app.api(token, 'GET', '/tools');
    expect(res.status).toBe(200);
    const names = res.body.items.map((t: { name: string }) => t.name);
    expect(names).toEqual(expect.arrayContaining(['web_search', 'read_file', 'mcp.files.count', 'mcp.files.echo', 'mcp.local.count', 'mcp.local.fail']));
    const count = res.body.items.find((t: { name: string }) => t.name === 'mcp.files.count');
    expect(count).toMatchObject({ source: 'mcp', server: 'files', available: true, inputSchema: { type: 'object', properties: { n: { type: 'integer' } } } });
    expect(res.body.servers).toEqual(expect.arrayContaining([{ name: 'files', available: true }, { name: 'local', available: true }]));
    expect(mcp.authorizations.length).toBeGreaterThan(0);
    expect(new Set(mcp.authorizations)).toEqual(new Set(['Bearer mcp-files-token-123456']));
    expect((await app.api(undefined, 'GET', '/tools')).status).toBe(401);
  });

  it('validates MCP grants and policies on agent write against the live registry', async () => {
    const r = await setupRoom(app, { mode: 'manual', agents: [{ key: 'a', name: 'A' }] });
    try {
      const unknown = await app.api(r.owner, 'PATCH', `/rooms/${r.roomId}/agents/a`, { toolPermissions: ['mcp.files.nope'] });
      expect(unknown.status).toBe(400);
      expect(unknown.body.error).toMatchObject({ code: 'UNKNOWN_TOOL', details: [{ path: ['toolPermissions', 0] }] });
      const noServer = await app.api(r.owner, 'PATCH', `/rooms/${r.roomId}/agents/a`, { toolApprovals: { 'mcp.other.count': 'ask' } });
      expect(noServer.body.error.code).toBe('UNKNOWN_TOOL');
      const ok = await app.api(r.owner, 'PATCH', `/rooms/${r.roomId}/agents/a`, { toolPermissions: ['mcp.files.count'], toolApprovals: { 'mcp.files.count': 'ask' } });
      expect(ok.status).toBe(200);
      expect(ok.body).toMatchObject({ toolPermissions: ['mcp.files.count'], toolApprovals: { 'mcp.files.count': 'ask' } });
    } finally {
      r.client.close();
    }
  });

  it('lets a granted agent call an HTTP MCP tool through the model, with progress as tool:progress; an agent without the grant is never offered it', async () => {
    const r = await setupRoom(app, {
      mode: 'roundtable',
      agents: [
        { key: 'counter', name: 'Counter', toolPermissions: ['mcp.files.count'] },
        { key: 'plain', name: 'Plain', toolPermissions: [] },
      ],
    });
    const calls = toolCallingModel(fake, { Counter: { tool: 'mcp_files_count', args: { n: 3 } }, Plain: { tool: 'mcp_files_count', args: { n: 1 } } });
    try {
      const ack = await send(r.client, r.roomId, r.sessionId, 'count please');
      const end = await turnEnd(r.client, ack.turnId);
      expect(end.status).toBe('completed');
      expect(toolNamesOf(calls.get('Counter')![0]!)).toEqual(['mcp_files_count']);
      expect(calls.get('Plain')!.every((q) => toolNamesOf(q).length === 0)).toBe(true);
      const progress = eventsOf(r.client, ack.turnId, 'tool:progress').map((e) => [e.data.toolName, e.data.message, e.data.percent]);
      expect(progress).toEqual([
        ['mcp.files.count', 'step 1 of 3', 33],
        ['mcp.files.count', 'step 2 of 3', 67],
        ['mcp.files.count', 'step 3 of 3', 100],
      ]);
      expect(eventsOf(r.client, ack.turnId, 'tool:end').map((e) => [e.data.toolName, e.data.status])).toEqual([['mcp.files.count', 'succeeded']]);
      expect(transcriptOf(calls.get('Counter')![1]!)).toContain('files counted to 3');
      expect(streamedText(r.client, ack.turnId).counter).toContain('files counted to 3');
      const rows = await app.orm.em.fork().find(ToolCallEvent, { turn: ack.turnId });
      expect(rows.map((t) => [t.toolName, t.status, t.input])).toEqual([['mcp.files.count', 'succeeded', { n: 3 }]]);
    } finally {
      r.client.close();
    }
  }, 60_000);

  it('calls a stdio MCP tool the same way, and redacts a secret from its error', async () => {
    const r = await setupRoom(app, {
      mode: 'roundtable',
      agents: [
        { key: 'local', name: 'Local', toolPermissions: ['mcp.local.count'] },
        { key: 'failer', name: 'Failer', toolPermissions: ['mcp.local.fail'] },
      ],
    });
    toolCallingModel(fake, { Local: { tool: 'mcp_local_count', args: { n: 2 } }, Failer: { tool: 'mcp_local_fail', args: {} } });
    try {
      const ack = await send(r.client, r.roomId, r.sessionId, 'count locally');
      const end = await turnEnd(r.client, ack.turnId);
      expect(end.status).toBe('completed');
      const progress = eventsOf(r.client, ack.turnId, 'tool:progress').filter((e) => e.data.toolName === 'mcp.local.count');
      expect(progress.map((e) => e.data.message)).toEqual(['step 1 of 2', 'step 2 of 2']);
      expect(streamedText(r.client, ack.turnId).local).toContain('stdio counted to 2');
      const failed = eventsOf(r.client, ack.turnId, 'tool:end').find((e) => e.data.toolName === 'mcp.local.fail')!.data;
      expect(failed.status).toBe('failed');
      expect(failed.error).toContain('[redacted]');
      expect(JSON.stringify(r.client.received)).not.toContain('stdio-secret-456789');
      const rows = await app.orm.em.fork().find(ToolCallEvent, { turn: ack.turnId, toolName: 'mcp.local.fail' });
      expect(rows[0]!.error).not.toContain('stdio-secret-456789');
    } finally {
      r.client.close();
    }
  }, 60_000);

  it('makes the tools of a server that stopped unavailable with a reason; turns still complete; it reconnects', async () => {
    const r = await setupRoom(app, { mode: 'manual', agents: [{ key: 'counter', name: 'Counter', toolPermissions: ['mcp.files.count', 'mcp.local.count'] }] });
    const calls = toolCallingModel(fake, { Counter: { tool: 'mcp_files_count', args: { n: 2 } } });
    try {
      await mcp.stop();
      // Mid-session: the call cannot reach the server; the model reads the failure and answers.
      const first = await send(r.client, r.roomId, r.sessionId, '@counter count');
      expect((await turnEnd(r.client, first.turnId)).status).toBe('completed');
      expect(eventsOf(r.client, first.turnId, 'tool:end').map((e) => [e.data.toolName, e.data.status])).toEqual([['mcp.files.count', 'failed']]);
      expect(streamedText(r.client, first.turnId).counter).toContain('Counter read:');

      const listed = await app.api(r.owner, 'GET', '/tools');
      const count = listed.body.items.find((t: { name: string }) => t.name === 'mcp.files.count');
      expect(count.available).toBe(false);
      expect(count.reason).toMatch(/MCP server "files" is down/);
      expect(listed.body.items.find((t: { name: string }) => t.name === 'mcp.local.count').available).toBe(true);

      // The next turn is not offered the tool at all, and completes.
      const before = calls.get('Counter')!.length;
      const second = await send(r.client, r.roomId, r.sessionId, '@counter count again');
      expect((await turnEnd(r.client, second.turnId)).status).toBe('completed');
      expect(toolNamesOf(calls.get('Counter')![before]!)).toEqual(['mcp_local_count']);
      expect(streamedText(r.client, second.turnId).counter).toContain('answers without tools');

      await mcp.restart();
      const deadline = Date.now() + 20_000;
      let available = false;
      while (!available && Date.now() < deadline) {
        const now = await app.api(r.owner, 'GET', '/tools');
        available = now.body.items.find((t: { name: string }) => t.name === 'mcp.files.count').available;
        if (!available) await new Promise((res) => setTimeout(res, 100));
      }
      expect(available).toBe(true);
      const third = await send(r.client, r.roomId, r.sessionId, '@counter count once more');
      expect((await turnEnd(r.client, third.turnId)).status).toBe('completed');
      expect(streamedText(r.client, third.turnId).counter).toContain('files counted to 2');
    } finally {
      r.client.close();
    }
  }, 90_000);
});
