import { parseJsonEventStream, readUIMessageStream, uiMessageChunkSchema, type UIMessage, type UIMessageChunk } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../../helpers/fake-openai';
import { startTestApp, testDb, type TestApp } from '../../helpers/test-app';
import { answerAs, fakeModelsEnv, setupRoom } from '../../helpers/turn-kit';

interface Frame {
  id?: string;
  data: string;
}

/** The raw SSE frames of a body (id and data lines). */
function framesOf(text: string): Frame[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim() && !block.startsWith(':'))
    .map((block) => {
      const f: Frame = { data: '' };
      for (const line of block.split('\n')) {
        if (line.startsWith('id: ')) f.id = line.slice(4);
        else if (line.startsWith('data: ')) f.data += line.slice(6);
      }
      return f;
    });
}

/** Reads a UI message stream body with the AI SDK's own parser and reader: the final message. */
async function readWithAiSdk(body: string): Promise<{ message: UIMessage; chunks: UIMessageChunk[] }> {
  const bytes = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new TextEncoder().encode(body));
      c.close();
    },
  });
  const chunks: UIMessageChunk[] = [];
  const parsed = parseJsonEventStream({ stream: bytes, schema: uiMessageChunkSchema }).pipeThrough(
    new TransformStream({
      transform(r, c) {
        if (!r.success) throw r.error;
        chunks.push(r.value as UIMessageChunk);
        c.enqueue(r.value as UIMessageChunk);
      },
    }),
  );
  let message: UIMessage | undefined;
  for await (const m of readUIMessageStream({ stream: parsed, terminateOnError: true })) message = m;
  return { message: message!, chunks };
}

const textsOf = (m: UIMessage) => m.parts.filter((p) => p.type === 'text').map((p) => (p as { text: string }).text);

describe(`the AI SDK chat stream on ${testDb()}`, () => {
  let fake: FakeOpenAI;
  let app: TestApp;
  beforeAll(async () => {
    fake = await startFakeOpenAI();
    fake.setResponder(answerAs());
    app = await startTestApp({ env: fakeModelsEnv(fake) });
  });
  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });

  const post = (token: string, sessionId: string, body: unknown) =>
    fetch(`${app.url}/api/v1/sessions/${sessionId}/chat`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const committed = async (token: string, sessionId: string, turnId: string) => {
    const page = await app.api(token, 'GET', `/sessions/${sessionId}/messages`);
    return (page.body.items as { turnId: string; authorType: string; agentKey: string; content: string; createdAt: string }[])
      .filter((m) => m.turnId === turnId && m.authorType === 'agent')
      .reverse();
  };

  it("streams a useChat message's turn; the AI SDK's reader gives the committed text; a resume from any frame's id gives the rest", async () => {
    const r = await setupRoom(app, { mode: 'manual', agents: [{ key: 'writer', name: 'Writer' }, { key: 'critic', name: 'Critic' }] });
    r.client.close();
    const res = await post(r.owner, r.sessionId, {
      id: 'chat-1',
      trigger: 'submit-message',
      messages: [
        { id: 'old-1', role: 'user', parts: [{ type: 'text', text: 'an earlier message' }] },
        { id: 'old-2', role: 'assistant', parts: [{ type: 'text', text: 'an earlier answer' }] },
        { id: 'msg-1', role: 'user', parts: [{ type: 'text', text: '@writer then @critic, please' }] },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    expect(res.headers.get('x-vercel-ai-ui-message-stream')).toBe('v1');
    const body = await res.text();

    const { message, chunks } = await readWithAiSdk(body);
    const turnId = (message.metadata as { turnId: string }).turnId;
    expect(message.id).toBe(turnId);
    expect(message.metadata).toMatchObject({ roomId: r.roomId, sessionId: r.sessionId, status: 'completed' });
    const stored = await committed(r.owner, r.sessionId, turnId);
    expect(stored.map((m) => m.agentKey)).toEqual(['writer', 'critic']);
    expect(textsOf(message)).toEqual(stored.map((m) => m.content));
    expect(stored[0]!.content).toContain('Writer answers');
    // The agents, as data parts beside their text.
    const agents = message.parts.filter((p) => p.type === 'data-agent').map((p) => (p as { data: { agentKey: string; status: string; modelAlias?: string } }).data);
    expect(agents).toMatchObject([{ agentKey: 'writer', status: 'complete' }, { agentKey: 'critic', status: 'complete' }]);
    expect(chunks.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop' });
    // Only the last user message was sent.
    const sent = await app.api(r.owner, 'GET', `/sessions/${r.sessionId}/messages`);
    expect(sent.body.items.filter((m: { authorType: string }) => m.authorType === 'user').map((m: { content: string }) => m.content)).toEqual(['@writer then @critic, please']);

    // Frame ids are the room stream's positions, rising.
    const frames = framesOf(body);
    const ids = frames.filter((f) => f.id).map((f) => f.id!);
    expect(ids.length).toBeGreaterThan(4);
    const seqs = ids.map((id) => Number(id.split(':')[1]));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(ids.map((id) => id.split(':')[0])).size).toBe(1);

    // Resume after a frame in the middle (Last-Event-ID, as EventSource sends it): the rest, exactly.
    const cut = Math.floor(ids.length / 2);
    const resumed = await fetch(`${app.url}/api/v1/sessions/${r.sessionId}/chat/stream?turnId=${turnId}`, {
      headers: { authorization: `Bearer ${r.owner}`, 'last-event-id': ids[cut]! },
    });
    expect(resumed.status).toBe(200);
    const rest = framesOf(await resumed.text());
    const after = frames.slice(frames.findIndex((f) => f.id === ids[cut]) + 1);
    expect(rest.slice(1).map((f) => f.data)).toEqual(after.map((f) => f.data));
    // The same by query (afterSeq and epoch).
    const [epoch, seq] = ids[cut]!.split(':');
    const byQuery = await fetch(`${app.url}/api/v1/sessions/${r.sessionId}/chat/stream?turnId=${turnId}&afterSeq=${seq}&epoch=${epoch}`, { headers: { authorization: `Bearer ${r.owner}` } });
    expect(framesOf(await byQuery.text()).slice(1).map((f) => f.data)).toEqual(after.map((f) => f.data));

    // A position the log does not hold (another epoch): the ended turn is told from the database.
    const gap = await fetch(`${app.url}/api/v1/sessions/${r.sessionId}/chat/stream?turnId=${turnId}`, {
      headers: { authorization: `Bearer ${r.owner}`, 'last-event-id': `another-epoch:${seq}` },
    });
    const fromDb = await readWithAiSdk(await gap.text());
    expect(textsOf(fromDb.message)).toEqual(stored.map((m) => m.content));
    expect(fromDb.message.metadata).toMatchObject({ turnId, status: 'completed', replayGap: true });

    // The same message again (a client's retry) is not sent twice: its turn's stream comes again.
    const again = await post(r.owner, r.sessionId, { id: 'chat-1', messages: [{ id: 'msg-1', role: 'user', parts: [{ type: 'text', text: '@writer then @critic, please' }] }] });
    const replay = await readWithAiSdk(await again.text());
    expect((replay.message.metadata as { turnId: string }).turnId).toBe(turnId);
    expect(textsOf(replay.message)).toEqual(stored.map((m) => m.content));
  });

  it('takes a plain { text }, and answers 204 when nothing is left to resume', async () => {
    const r = await setupRoom(app, { mode: 'manual', agents: [{ key: 'writer', name: 'Writer' }] });
    r.client.close();
    const res = await post(r.owner, r.sessionId, { text: '@writer one line' });
    const { message } = await readWithAiSdk(await res.text());
    const turnId = (message.metadata as { turnId: string }).turnId;
    expect(textsOf(message)).toEqual((await committed(r.owner, r.sessionId, turnId)).map((m) => m.content));
    const none = await fetch(`${app.url}/api/v1/sessions/${r.sessionId}/chat/stream`, { headers: { authorization: `Bearer ${r.owner}` } });
    expect(none.status).toBe(204);
  });

  it('refuses a body without user text, a session of a room the caller is not in, and an unknown turn', async () => {
    const r = await setupRoom(app, { mode: 'manual', agents: [{ key: 'writer', name: 'Writer' }] });
    r.client.close();
    const empty = await post(r.owner, r.sessionId, { messages: [{ id: 'a', role: 'assistant', parts: [{ type: 'text', text: 'hi' }] }] });
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as any).error.code).toBe('VALIDATION_FAILED');
    const bad = await post(r.owner, r.sessionId, { text: 'x', unknown: 1 });
    expect(bad.status).toBe(400);
    const stranger = await post(app.token('stranger'), r.sessionId, { text: 'hello' });
    expect(stranger.status).toBe(404);
    expect(((await stranger.json()) as any).error.code).toBe('SESSION_NOT_FOUND');
    const unknownTurn = await fetch(`${app.url}/api/v1/sessions/${r.sessionId}/chat/stream?turnId=00000000-0000-4000-8000-000000000000`, { headers: { authorization: `Bearer ${r.owner}` } });
    expect(unknownTurn.status).toBe(404);
    const messages = await app.api(r.owner, 'GET', `/sessions/${r.sessionId}/messages`);
    expect(messages.body.items).toEqual([]);
  });
});
