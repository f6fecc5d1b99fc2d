import { readUIMessageStream, uiMessageChunkSchema, type UIMessage, type UIMessageChunk } from 'ai';
import { describe, expect, it } from 'vitest';
import type { RoomEvent, RoomEventName } from '../../../src/contract/events';
import { turnChunks } from '../../../src/http/ui-message-chunks';

const T = '11111111-1111-4111-8111-111111111111';
let seq = 0;
const ev = <E extends RoomEventName>(event: E, payload: Omit<RoomEvent<E>, 'roomId' | 'epoch' | 'seq' | 'ts'>) =>
  [event, { roomId: 'r', epoch: 'e', seq: ++seq, ts: 0, ...payload } as unknown as RoomEvent] as const;
const usage = { inputTokens: 1, outputTokens: 2, costUsd: 0 };

describe('a turn as AI SDK UI message chunks', () => {
  it('maps agents, tools and the end to chunks the AI SDK validates and reads into one message', async () => {
    const events = [
      ev('turn:started', { turnId: T, sessionId: 's', mode: 'manual' }),
      ev('turn:plan', { turnId: T, agentKeys: ['searcher'], fallback: false }),
      ev('agent:start', { turnId: T, agentKey: 'searcher', modelAlias: 'fake' }),
      ev('tool:start', { turnId: T, agentKey: 'searcher', toolCallId: 'c1', toolName: 'web_search', input: { query: 'q' } }),
      ev('tool:end', { turnId: T, agentKey: 'searcher', toolCallId: 'c1', toolName: 'web_search', status: 'succeeded', latencyMs: 5 }),
      ev('tool:start', { turnId: T, agentKey: 'searcher', toolCallId: 'c2', toolName: 'read_file', input: { fileId: 'f' } }),
      ev('tool:end', { turnId: T, agentKey: 'searcher', toolCallId: 'c2', toolName: 'read_file', status: 'failed', latencyMs: 3, error: 'no such file' }),
      ev('agent:delta', { turnId: T, agentKey: 'searcher', text: 'Found ' }),
      ev('agent:delta', { turnId: '22222222-2222-4222-8222-222222222222', agentKey: 'other', text: 'not this turn' }),
      ev('agent:delta', { turnId: T, agentKey: 'searcher', text: 'it.' }),
      ev('agent:end', { turnId: T, agentKey: 'searcher', messageId: 'm', status: 'complete', finishReason: 'stop', usage }),
      ev('turn:end', { turnId: T, sessionId: 's', status: 'completed', usage, infrastructureUsage: usage }),
    ];
    const chunks: UIMessageChunk[] = [{ type: 'start', messageId: T }, ...events.flatMap(([e, d]) => turnChunks(T, e, d))];
    for (const c of chunks) expect((await uiMessageChunkSchema().validate!(c)).success, JSON.stringify(c)).toBe(true);
    expect(chunks.map((c) => c.type)).toEqual([
      'start',
      'data-plan',
      'data-agent',
      'text-start',
      'tool-input-available',
      'tool-output-available',
      'tool-input-available',
      'tool-output-error',
      'text-delta',
      'text-delta',
      'text-end',
      'data-agent',
      'finish',
    ]);
    let message: UIMessage | undefined;
    const stream = new ReadableStream<UIMessageChunk>({
      start(c) {
        for (const x of chunks) c.enqueue(x);
        c.close();
      },
    });
    for await (const m of readUIMessageStream({ stream, terminateOnError: true })) message = m;
    const tools = message!.parts.filter((p) => p.type === 'dynamic-tool') as { toolName: string; state: string; errorText?: string }[];
    expect(tools.map((t) => [t.toolName, t.state])).toEqual([
      ['web_search', 'output-available'],
      ['read_file', 'output-error'],
    ]);
    expect(message!.parts.filter((p) => p.type === 'text').map((p) => (p as { text: string }).text)).toEqual(['Found it.']);
    expect(message!.metadata).toMatchObject({ status: 'completed', usage });
  });
});
