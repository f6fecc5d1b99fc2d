import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ToolCallEvent, User } from '../../../src/db/entities';
import { startFakeOpenAI, toolNamesOf, transcriptOf, type FakeOpenAI, type RecordedRequest } from '../../helpers/fake-openai';
import { startFakeTavily, type FakeTavily } from '../../helpers/fake-tavily';
import { startTestApp, testDb, type TestApp } from '../../helpers/test-app';
import { agentNameOf, eventsOf, fakeModelsEnv, send, setupRoom, streamedText, turnEnd } from '../../helpers/turn-kit';
import { uploadFile } from '../../helpers/upload-suite';

describe(`agent tools through a whole turn on ${testDb()}`, () => {
  let fake: FakeOpenAI;
  let tavily: FakeTavily;
  let app: TestApp;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    tavily = await startFakeTavily({
      apiKey: 'tvly-test-key',
      results: (q) => [{ title: `About ${q}`, url: 'https://example.test/a', content: `Fresh facts on ${q}: 42 widgets.` }],
    });
    app = await startTestApp({ env: fakeModelsEnv(fake, { TAVILY_API_KEY: 'tvly-test-key', TAVILY_BASE_URL: tavily.baseUrl }) });
  });
  afterAll(async () => {
    await app?.close();
    await fake?.close();
    await tavily?.close();
  });

  it('lets the model call read_file and web_search, streams tool events, and commits them', async () => {
    const r = await setupRoom(app, {
      mode: 'roundtable',
      agents: [
        { key: 'researcher', name: 'Researcher', toolPermissions: ['read_file', 'web_search'] },
        { key: 'plain', name: 'Plain', toolPermissions: [] },
      ],
    });
    const up = await uploadFile(app, r.owner, r.roomId, 'brief.txt', Buffer.from('The launch date is March 3rd.'));
    await r.client.until(() => r.client.received.some((e) => e.event === 'file:ready' && e.data.fileId === up.body.id), 'file ready');

    const researcherCalls: RecordedRequest[] = [];
    fake.setResponder((req) => {
      const name = agentNameOf(req);
      if (name === 'Researcher') {
        researcherCalls.push(req);
        if (researcherCalls.length === 1) return { toolCalls: [{ id: 'call_read', name: 'read_file', args: { fileId: up.body.id } }] };
        if (researcherCalls.length === 2) return { toolCalls: [{ id: 'call_search', name: 'web_search', args: { query: 'widgets' } }] };
        return { text: 'The launch is March 3rd and there are 42 widgets.' };
      }
      return { text: 'Plain agrees.' };
    });

    const ack = await send(r.client, r.roomId, r.sessionId, 'What do we know?');
    const end = await turnEnd(r.client, ack.turnId);
    expect(end.status).toBe('completed');

    expect(toolNamesOf(researcherCalls[0]!).sort()).toEqual(['read_file', 'web_search']);
    expect(transcriptOf(researcherCalls[0]!)).toContain('brief.txt');
    expect(transcriptOf(researcherCalls[1]!)).toContain('The launch date is March 3rd.');
    expect(transcriptOf(researcherCalls[2]!)).toContain('42 widgets');
    const plainReq = fake.requests.find((q) => agentNameOf(q) === 'Plain')!;
    expect(toolNamesOf(plainReq)).toEqual([]);
    expect(tavily.requests).toHaveLength(1);

    const starts = eventsOf(r.client, ack.turnId, 'tool:start').map((e) => e.data.toolName);
    const ends = eventsOf(r.client, ack.turnId, 'tool:end').map((e) => [e.data.toolName, e.data.status, typeof e.data.latencyMs]);
    expect(starts).toEqual(['read_file', 'web_search']);
    expect(ends).toEqual([
      ['read_file', 'succeeded', 'number'],
      ['web_search', 'succeeded', 'number'],
    ]);
    expect(streamedText(r.client, ack.turnId).researcher).toContain('42 widgets');

    const rows = await app.orm.em.fork().find(ToolCallEvent, { turn: ack.turnId }, { orderBy: { createdAt: 'asc' } });
    const owner = await app.orm.em.fork().findOneOrFail(User, { id: rows[0]!.user!.id });
    expect(rows.map((t) => [t.toolName, t.status, t.agentKey])).toEqual([
      ['read_file', 'succeeded', 'researcher'],
      ['web_search', 'succeeded', 'researcher'],
    ]);
    expect(owner.displayName).toBe('Olivia');
    const audit = await app.api(r.owner, 'GET', `/sessions/${r.sessionId}/turns/${ack.turnId}`);
    expect(audit.body.toolCalls.map((t: any) => t.toolName)).toEqual(['read_file', 'web_search']);
    expect(audit.body.usage.filter((u: any) => u.agentKey === 'researcher')).toHaveLength(3);
  });

  it('refuses files of another room when attached to a message', async () => {
    const a = await setupRoom(app, { mode: 'manual', agents: [{ key: 'x', name: 'X' }] });
    const b = await setupRoom(app, { mode: 'manual', agents: [{ key: 'y', name: 'Y' }] });
    try {
      const up = await uploadFile(app, b.owner, b.roomId, 'other.txt', Buffer.from('not yours'));
      const ack = await a.client.request('message:send', { roomId: a.roomId, sessionId: a.sessionId, clientMsgId: 'attach-1', content: '@x read it', fileIds: [up.body.id] });
      expect(ack).toMatchObject({ ok: false, error: { code: 'FILE_NOT_FOUND' } });
    } finally {
      a.client.close();
      b.client.close();
    }
  });
});
