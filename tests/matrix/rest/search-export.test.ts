import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { searchHitDtoSchema } from '../../../src/contract/dto';
import { startFakeOpenAI, type FakeOpenAI } from '../../helpers/fake-openai';
import { buildPdf } from '../../helpers/file-fixtures';
import { startTestApp, testDb, type TestApp } from '../../helpers/test-app';
import { fakeModelsEnv, send, setupRoom, turnEnd, type RoomSetup } from '../../helpers/turn-kit';
import { uploadFile } from '../../helpers/upload-suite';

describe(`search and export on ${testDb()}`, () => {
  let fake: FakeOpenAI;
  let app: TestApp;
  let r: RoomSetup;
  let pdfId: string;
  let sentId: string;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    fake.setResponder(() => ({ text: 'Scribe notes the harbour schedule.' }));
    app = await startTestApp({ env: fakeModelsEnv(fake) });
    r = await setupRoom(app, { mode: 'roundtable', agents: [{ key: 'scribe', name: 'Scribe' }] });
    const up = await uploadFile(app, r.owner, r.roomId, 'minutes.pdf', buildPdf([['Quarterly minutes'], ['The committee approved the lighthouse renovation budget.']]));
    expect(up.status).toBe(201);
    pdfId = up.body.id;
    await r.client.until(() => r.client.received.some((e) => e.event === 'file:ready' && e.data.fileId === pdfId), 'pdf ready', 30_000);
    const sent = await send(r.client, r.roomId, r.sessionId, 'Remember that the ferries were rescheduled for Tuesday.');
    sentId = sent.messageId;
    await turnEnd(r.client, sent.turnId);
  });
  afterAll(async () => {
    r?.client.close();
    await app?.close();
    await fake?.close();
  });

  const search = (token: string, q: string, extra = '') => app.api(token, 'GET', `/rooms/${r.roomId}/search?q=${encodeURIComponent(q)}${extra}`);

  it('finds a word of a message (stemmed) and a word of a parsed PDF, with snippets', async () => {
    const msg = await search(r.owner, 'ferry');
    expect(msg.status).toBe(200);
    expect(msg.body.items).toHaveLength(1);
    const hit = msg.body.items[0];
    expect(searchHitDtoSchema.safeParse(hit).success).toBe(true);
    expect(hit).toMatchObject({ kind: 'message', messageId: sentId, sessionId: r.sessionId, authorType: 'user' });
    expect(hit.snippet).toContain('**ferries**');

    const file = await search(r.owner, 'lighthouse renovation');
    expect(file.body.items).toEqual([expect.objectContaining({ kind: 'file', fileId: pdfId, filename: 'minutes.pdf' })]);
    expect(file.body.items[0].snippet).toContain('**lighthouse**');

    // Both kinds in one answer, newest first; an agent's answer is a message too.
    const both = await search(r.owner, 'harbour or lighthouse or ferries');
    expect(both.body.items.map((h: any) => h.kind).sort()).toEqual(['file', 'message', 'message']);
    expect(await search(r.owner, 'zeppelin')).toMatchObject({ status: 200, body: { items: [] } });
  });

  it('pages with the cursor it hands out', async () => {
    const first = await search(r.owner, 'harbour or lighthouse or ferries', '&limit=2');
    expect(first.body.items).toHaveLength(2);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await search(r.owner, 'harbour or lighthouse or ferries', `&limit=2&before=${first.body.nextCursor}`);
    expect(second.body.items).toHaveLength(1);
    expect(second.body.nextCursor).toBeUndefined();
    const ids = [...first.body.items, ...second.body.items].map((h: any) => h.id);
    expect(new Set(ids).size).toBe(3);
    expect((await search(r.owner, 'ferries', '&before=not-a-cursor')).body.error.code).toBe('VALIDATION_FAILED');
    expect((await search(r.owner, '')).status).toBe(400);
  });

  it('answers a non-member as for a missing room, and finds nothing for them', async () => {
    const stranger = app.token('stranger-search');
    const res = await search(stranger, 'lighthouse');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('ROOM_NOT_FOUND');
    expect(res.body.items).toBeUndefined();
    // Their own room holds none of it either.
    const own = await app.api(stranger, 'POST', '/rooms', { name: 'Mine' });
    const mine = await app.api(stranger, 'GET', `/rooms/${own.body.id}/search?q=lighthouse`);
    expect(mine.body.items).toEqual([]);
  });

  it('exports a session as Markdown and as JSON, to members only, as an attachment', async () => {
    const md = await fetch(`${app.url}/api/v1/sessions/${r.sessionId}/export?format=md`, { headers: { authorization: `Bearer ${r.owner}` } });
    expect(md.status).toBe(200);
    expect(md.headers.get('content-type')).toContain('text/markdown');
    expect(md.headers.get('content-disposition')).toBe(`attachment; filename="session-${r.sessionId}.md"`);
    const text = await md.text();
    expect(text).toContain('# work');
    expect(text).toContain('### Olivia');
    expect(text).toContain('> Remember that the ferries were rescheduled for Tuesday.');
    expect(text).toContain('### Scribe (agent)');

    const json = await fetch(`${app.url}/api/v1/sessions/${r.sessionId}/export?format=json`, { headers: { authorization: `Bearer ${r.owner}` } });
    expect(json.headers.get('content-disposition')).toBe(`attachment; filename="session-${r.sessionId}.json"`);
    const body = (await json.json()) as any;
    expect(body.session.id).toBe(r.sessionId);
    expect(body.truncated).toBe(false);
    expect(body.messages.map((m: any) => [m.authorType, m.authorName])).toEqual([
      ['user', 'Olivia'],
      ['agent', 'Scribe'],
    ]);

    const stranger = app.token('stranger-export');
    const refused = await app.api(stranger, 'GET', `/sessions/${r.sessionId}/export?format=json`);
    expect(refused.status).toBe(404);
    expect(refused.body.error.code).toBe('SESSION_NOT_FOUND');
    expect((await app.api(r.owner, 'GET', `/sessions/${r.sessionId}/export?format=pdf`)).body.error.code).toBe('VALIDATION_FAILED');
  });
});
