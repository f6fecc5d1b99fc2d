import { AIMessageChunk, ChatMessageChunk, type BaseMessageChunk } from '@langchain/core/messages';
import { describe, expect, it } from 'vitest';
import { ChunkMerger } from '../../../src/llm/chunk-merger';

/** What a merged message is read for: everything but LangChain's serialisation bookkeeping. */
const view = (m: BaseMessageChunk | undefined) => {
  if (!m) return undefined;
  const ai = m as AIMessageChunk;
  return {
    type: m.getType(),
    content: m.content,
    id: m.id,
    additional_kwargs: m.additional_kwargs,
    response_metadata: m.response_metadata,
    tool_calls: ai.tool_calls,
    tool_call_chunks: ai.tool_call_chunks,
    invalid_tool_calls: ai.invalid_tool_calls,
    usage_metadata: ai.usage_metadata,
  };
};

const folded = (chunks: BaseMessageChunk[]) => view(chunks.reduce<BaseMessageChunk | undefined>((a, c) => (a ? a.concat(c) : c), undefined));
const merged = (chunks: BaseMessageChunk[]) => {
  const m = new ChunkMerger();
  for (const c of chunks) m.add(c);
  return view(m.result());
};

// What @langchain/openai makes of a chat.completion.chunk, generation info included.
const meta = (extra: Record<string, unknown> = {}) => ({ model_provider: 'openai', usage: {}, prompt: 0, completion: 0, ...extra });
const text = (content: string, id = 'chatcmpl-1') => new AIMessageChunk({ content, id, response_metadata: meta() });
const finish = (id = 'chatcmpl-1') =>
  new AIMessageChunk({ content: '', id, response_metadata: meta({ finish_reason: 'stop', model_name: 'gpt-x', system_fingerprint: 'fp' }) });
const usage = () =>
  new AIMessageChunk({
    content: '',
    response_metadata: { usage: { prompt_tokens: 10, completion_tokens: 3, total_tokens: 13 } },
    usage_metadata: { input_tokens: 10, output_tokens: 3, total_tokens: 13 },
  });
const toolPiece = (args: string, first = false) =>
  new AIMessageChunk({
    content: '',
    id: 'chatcmpl-1',
    response_metadata: meta(),
    additional_kwargs: { tool_calls: [{ index: 0, ...(first ? { id: 'call_1', type: 'function' } : {}), function: { ...(first ? { name: 'search' } : {}), arguments: args } }] } as never,
    tool_call_chunks: [{ index: 0, ...(first ? { id: 'call_1', name: 'search' } : {}), args, type: 'tool_call_chunk' }],
  });

describe('ChunkMerger', () => {
  const cases: Record<string, () => BaseMessageChunk[]> = {
    'a text stream with finish reason and usage': () => [text(''), ...'Hello there, world'.split(' ').map((w) => text(`${w} `)), finish(), usage()],
    'text, then a tool call split across chunks, then text': () => [
      text('Let me look. '),
      text('One moment.'),
      toolPiece('{"qu', true),
      toolPiece('ery": "cats'),
      toolPiece('"}'),
      text(' Done'),
      text('.'),
      finish(),
      usage(),
    ],
    'chunks without an id before one with an id': () => [new AIMessageChunk({ content: 'a' }), new AIMessageChunk({ content: 'b' }), text('c'), text('d')],
    'usage reported in every chunk (summed by the merge)': () => [
      new AIMessageChunk({ content: 'a', id: 'x', response_metadata: meta({ usage: { total_tokens: 1 } }) }),
      new AIMessageChunk({ content: 'b', id: 'x', response_metadata: meta({ usage: { total_tokens: 2 } }) }),
      new AIMessageChunk({ content: 'c', id: 'x', response_metadata: meta({ usage: { total_tokens: 3 } }) }),
    ],
    'metadata strings that the merge concatenates': () => [
      new AIMessageChunk({ content: 'a', id: 'x', response_metadata: { note: 'p' } }),
      new AIMessageChunk({ content: 'b', id: 'x', response_metadata: { note: 'q' } }),
      new AIMessageChunk({ content: 'c', id: 'x', response_metadata: { note: 'r' } }),
    ],
    'content blocks among text chunks': () => [text('a'), new AIMessageChunk({ content: [{ type: 'text', text: 'b' }], id: 'chatcmpl-1' }), text('c'), text('d')],
    'a chunk of another role': () => [text('a'), new ChatMessageChunk({ content: 'b', role: 'assistant' }), text('c')],
    'a single chunk': () => [text('only')],
    'no chunk': () => [],
  };
  for (const [name, make] of Object.entries(cases)) {
    it(`gives what concat folded over the chunks gives: ${name}`, () => {
      expect(merged(make())).toEqual(folded(make()));
    });
  }

  it('leaves text chunks to be joined, not concatenated one by one', () => {
    const chunks = Array.from({ length: 50 }, (_, i) => text(`t${i} `));
    let concats = 0;
    const original = AIMessageChunk.prototype.concat;
    AIMessageChunk.prototype.concat = function (this: AIMessageChunk, c: AIMessageChunk) {
      concats++;
      return original.call(this, c);
    };
    try {
      const m = new ChunkMerger();
      for (const c of chunks) m.add(c);
      m.add(finish());
      expect(m.result()!.content).toBe(chunks.map((c) => c.content).join(''));
      expect((m.result()!.response_metadata as { finish_reason?: string }).finish_reason).toBe('stop');
      expect(concats).toBe(2);
    } finally {
      AIMessageChunk.prototype.concat = original;
    }
  });
});
