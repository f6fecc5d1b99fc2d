import { parseJsonEventStream, readUIMessageStream, uiMessageChunkSchema, type UIMessage, type UIMessageChunk } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../../helpers/fake-openai';
import { startTwoNodes, type TestApp } from '../../helpers/test-app';
import { answerAs, fakeModelsEnv, setupRoom, streamedText, turnEnd } from '../../helpers/turn-kit';

async function readWithAiSdk(body: string): Promise<UIMessage> {
  const bytes = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new TextEncoder().encode(body));
      c.close();
    },
  });
  const chunks = parseJsonEventStream({ stream: bytes, schema: uiMessageChunkSchema }).pipeThrough(
    new TransformStream({
      transform(r, c) {
        if (!r.success) throw r.error;
        c.enqueue(r.value as UIMessageChunk);
      },
    }),
  );
  let message: UIMessage | undefined;
  for await (const m of readUIMessageStream({ stream: chunks, terminateOnError: true })) message = m;
  return message!;
}

// The chat endpoint of a node that holds no socket of the room: the room's events reach it through
// Redis like any node's, and a stream begun on one node resumes on the other.
describe('the chat stream across two nodes', () => {
  let fake: FakeOpenAI;
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    fake = await startFakeOpenAI();
    fake.setResponder(answerAs({ Writer: () => ({ text: Array.from({ length: 12 }, (_, i) => ({ text: `w${i} `, delayMs: 10 })) }) }));
    const env = fakeModelsEnv(fake);
    ({ a, b } = await startTwoNodes({ env }));
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await fake?.close();
  });

  it('streams through node B what the sockets on node A see, and resumes on node A', async () => {
    const r = await setupRoom(a, { mode: 'manual', agents: [{ key: 'writer', name: 'Writer' }, { key: 'critic', name: 'Critic' }] });
    try {
      const res = await fetch(`${b.url}/api/v1/sessions/${r.sessionId}/chat`, {
        method: 'POST',
        headers: { authorization: `Bearer ${r.owner}`, 'content-type': 'application/json' },
        body: JSON.stringify({ text: '@writer and @critic' }),
      });
      expect(res.status).toBe(200);
      const body = await res.text();
      const message = await readWithAiSdk(body);
      const turnId = (message.metadata as { turnId: string }).turnId;
      await turnEnd(r.client, turnId);
      const onSocket = streamedText(r.client, turnId);
      const texts = message.parts.filter((p) => p.type === 'text').map((p) => (p as { text: string }).text);
      expect(texts).toEqual([onSocket.writer, onSocket.critic]);
      const page = await a.api(r.owner, 'GET', `/sessions/${r.sessionId}/messages`);
      const stored = (page.body.items as { turnId: string; authorType: string; content: string }[]).filter((m) => m.turnId === turnId && m.authorType === 'agent').reverse();
      expect(texts).toEqual(stored.map((m) => m.content));

      const ids = [...body.matchAll(/^id: (\S+)$/gm)].map((m) => m[1]!);
      const cut = ids[Math.floor(ids.length / 3)]!;
      const resumed = await fetch(`${a.url}/api/v1/sessions/${r.sessionId}/chat/stream?turnId=${turnId}`, { headers: { authorization: `Bearer ${r.owner}`, 'last-event-id': cut } });
      const tail = (await resumed.text()).split('\n\n').filter((x) => x.includes('data: ')).slice(1);
      const original = body.split('\n\n').filter((x) => x.includes('data: '));
      const from = original.findIndex((x) => x.startsWith(`id: ${cut}\n`));
      expect(from).toBeGreaterThan(0);
      expect(tail).toEqual(original.slice(from + 1));
    } finally {
      r.client.close();
    }
  });
});
