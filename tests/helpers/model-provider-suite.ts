/**
 * What every model behind a ModelProvider alias does for the turn engine: stream text deltas that
 * add up to the final text, report usage (or let the call be estimated), stop on abort, and bind
 * tools. Each provider's test file calls `modelProviderSuite(name, harness)`; the harness arranges
 * the next reply where the provider can be scripted (a test double of the endpoint) and says what
 * the provider answers where it cannot (the offline demo).
 */
import { AIMessageChunk, HumanMessage, SystemMessage, type BaseMessage } from '@langchain/core/messages';
import { describe, expect, it } from 'vitest';
import { streamModelCall, type ChatRunnable } from '../../src/llm/call-model';
import { textOfContent } from '../../src/llm/message-text';
import type { ModelProvider } from '../../src/llm/model-provider';
import { usageOfCall } from '../../src/llm/usage';
import { requestTokens, tokenCounterFor } from '../../src/llm/token-count';

export interface ScriptedReply {
  /** The text, chunk by chunk. */
  chunks: string[];
  /** Token counts the server reports; absent: the server sends none. */
  usage?: { input: number; output: number };
  /** Pause before each chunk, so that an abort lands mid-stream. */
  chunkDelayMs?: number;
}

export interface ToolCallScript {
  id: string;
  name: string;
  args: Record<string, unknown>;
}

export interface ModelProviderHarness {
  models: ModelProvider;
  alias: string;
  /**
   * Arranges the answer to the next call where the provider can be scripted, and returns the text
   * the model will stream for `prompt` (a fixed provider ignores `reply` and says what it answers).
   */
  willAnswer(prompt: BaseMessage[], reply: ScriptedReply): string;
  /** The usage the streamed message carries for that reply, or undefined when it carries none. */
  reportedUsage(prompt: BaseMessage[], text: string, reply: ScriptedReply): { input_tokens: number; output_tokens: number } | undefined;
  /** How the model takes bound tools: it can be made to call one, or it accepts them and answers in text. */
  tools: { kind: 'scripted'; willCall(call: ToolCallScript): void; offered(): string[] } | { kind: 'ignored' };
  /** For providers that talk to a server: resolves with how the last request ended there. */
  lastRequestEnded?(): Promise<string>;
}

const prompt = (): BaseMessage[] => [
  new SystemMessage('You are Tester, a careful assistant.\nYour role: Check things. Be brief.'),
  new HumanMessage('Alice: what is green tea?'),
];

const LOOKUP_TOOL = {
  type: 'function' as const,
  function: {
    name: 'lookup',
    description: 'Looks a term up.',
    parameters: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] },
  },
};

async function collect(model: ChatRunnable, messages: BaseMessage[], signal?: AbortSignal, onChunk?: (c: AIMessageChunk, deltas: string[]) => void) {
  const chunks: AIMessageChunk[] = [];
  const deltas: string[] = [];
  let merged: AIMessageChunk | undefined;
  for await (const chunk of await model.stream(messages, { signal })) {
    chunks.push(chunk);
    const text = textOfContent(chunk.content);
    if (text) deltas.push(text);
    merged = merged ? merged.concat(chunk) : chunk;
    onChunk?.(chunk, deltas);
  }
  return { chunks, deltas, merged };
}

export function modelProviderSuite(name: string, h: ModelProviderHarness) {
  describe(`model provider contract: ${name}`, () => {
    const chatModel = (maxTokens = 256) => h.models.chatModel(h.alias, { maxTokens, timeoutMs: 10_000 });

    it('streams AI message deltas whose concatenation is the final text', async () => {
      const p = prompt();
      const text = h.willAnswer(p, { chunks: ['Green ', 'tea ', 'is ', 'unoxidised ', 'tea.'], usage: { input: 21, output: 5 } });
      const { chunks, deltas, merged } = await collect(chatModel(), p);
      expect(chunks.every((c) => AIMessageChunk.isInstance(c))).toBe(true);
      expect(deltas.length).toBeGreaterThan(1);
      expect(deltas.join('')).toBe(text);
      expect(textOfContent(merged!.content)).toBe(text);
      // The turn engine's own call path sees the same text.
      h.willAnswer(p, { chunks: ['Green ', 'tea ', 'is ', 'unoxidised ', 'tea.'], usage: { input: 21, output: 5 } });
      expect((await streamModelCall(chatModel(), p, { timeoutMs: 10_000 })).text).toBe(text);
    });

    it('reports usage on the merged message, and the call is recorded with it', async () => {
      const p = prompt();
      const reply: ScriptedReply = { chunks: ['Short ', 'answer.'], usage: { input: 33, output: 2 } };
      const text = h.willAnswer(p, reply);
      const { message, latencyMs } = await streamModelCall(chatModel(), p, { timeoutMs: 10_000 });
      const expected = h.reportedUsage(p, text, reply);
      expect(expected).toBeDefined();
      expect(message?.usage_metadata).toMatchObject(expected!);
      const record = usageOfCall({
        purpose: 'agent',
        description: h.models.describe(h.alias),
        reported: message?.usage_metadata,
        prompt: p,
        outputText: text,
        latencyMs,
      });
      expect(record).toMatchObject({ inputTokens: expected!.input_tokens, outputTokens: expected!.output_tokens, estimated: false });
    });

    it('a reply without usage from the server is still recorded: the model’s own count, or an estimate from prompt and text', async () => {
      const p = prompt();
      const reply: ScriptedReply = { chunks: ['No ', 'usage ', 'here.'] };
      const text = h.willAnswer(p, reply);
      const { message, latencyMs } = await streamModelCall(chatModel(), p, { timeoutMs: 10_000 });
      const reported = h.reportedUsage(p, text, reply);
      const record = usageOfCall({
        purpose: 'agent',
        description: h.models.describe(h.alias),
        reported: message?.usage_metadata,
        prompt: p,
        outputText: text,
        latencyMs,
      });
      if (reported) {
        expect(message?.usage_metadata).toMatchObject(reported);
        expect(record).toMatchObject({ inputTokens: reported.input_tokens, outputTokens: reported.output_tokens, estimated: false });
      } else {
        expect(message?.usage_metadata).toBeUndefined();
        expect(record).toMatchObject({
          // The whole request as sent, counted with the model's tokenizer (the character rule for these test models).
          inputTokens: requestTokens(tokenCounterFor(h.models.describe(h.alias).model), p),
          outputTokens: tokenCounterFor(h.models.describe(h.alias).model).count(text),
          estimated: true,
        });
      }
    });

    it('stops on abort: the stream fails with an abort and yields no further delta', async () => {
      const p = prompt();
      h.willAnswer(p, { chunks: ['one ', 'two ', 'three ', 'four ', 'five ', 'six ', 'seven ', 'eight'], chunkDelayMs: 20 });
      const controller = new AbortController();
      let deltasAtAbort = -1;
      let seen: string[] = [];
      const run = collect(chatModel(), p, controller.signal, (_c, deltas) => {
        seen = deltas;
        if (deltas.length === 2 && deltasAtAbort < 0) {
          deltasAtAbort = deltas.length;
          controller.abort();
        }
      });
      await expect(run).rejects.toThrow(/abort/i);
      expect(deltasAtAbort).toBe(2);
      expect(seen).toHaveLength(2);
      if (h.lastRequestEnded) expect(await h.lastRequestEnded()).toBe('client-closed');
    });

    it('accepts bound tools; a model that can call tools returns the call with its arguments', async () => {
      const p = prompt();
      const model = chatModel();
      expect(model.bindTools).toBeTypeOf('function');
      const bound = model.bindTools!([LOOKUP_TOOL]);
      if (h.tools.kind === 'scripted') {
        h.tools.willCall({ id: 'call-1', name: 'lookup', args: { q: 'green tea' } });
        const { merged } = await collect(bound, p);
        expect(h.tools.offered()).toEqual(['lookup']);
        expect(merged!.tool_calls).toEqual([expect.objectContaining({ id: 'call-1', name: 'lookup', args: { q: 'green tea' } })]);
      } else {
        const text = h.willAnswer(p, { chunks: ['plain'] });
        const { merged } = await collect(bound, p);
        expect(textOfContent(merged!.content)).toBe(text);
        expect(merged!.tool_calls ?? []).toEqual([]);
      }
    });
  });
}
