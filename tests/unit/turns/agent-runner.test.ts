import { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { AIMessageChunk, isToolMessage, type BaseMessage } from '@langchain/core/messages';
import { ChatGenerationChunk, type ChatResult } from '@langchain/core/outputs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ALIAS } from '../../../src/config/models';
import { demoReply } from '../../../src/llm/demo-model';
import { createModelProvider } from '../../../src/llm/model-provider';
import { runAgent, type AgentRunCallbacks, type AgentRunInput } from '../../../src/turns/agent-runner';
import { buildAgentMessages } from '../../../src/turns/prompt';
import { createRedactor } from '../../../src/shared/redactor';
import { createTavilySearch } from '../../../src/tools/search-provider';
import { fakeModelAlias, startFakeOpenAI, toolNamesOf, transcriptOf, type FakeOpenAI, type FakeStreamShape } from '../../helpers/fake-openai';
import { startFakeTavily, type FakeTavily } from '../../helpers/fake-tavily';

const redactor = createRedactor([]);
let fake: FakeOpenAI;
let tavily: FakeTavily;
let slowTavily: FakeTavily;

beforeAll(async () => {
  [fake, tavily, slowTavily] = await Promise.all([
    startFakeOpenAI(),
    startFakeTavily({ apiKey: 'tvly-k' }),
    // Slow enough that a cancel always lands while the search is in flight.
    startFakeTavily({ apiKey: 'tvly-k', delayMs: 5_000 }),
  ]);
});
afterEach(() => fake.setResponder(undefined));
afterAll(() => Promise.all([fake.close(), tavily.close(), slowTavily.close()]));

const messages = buildAgentMessages({
  agent: { key: 'writer', name: 'Writer', rolePrompt: 'You write.' },
  recent: [{ authorType: 'user', authorName: 'Alice', content: 'Tell me about tea' }],
});

function input(over: Partial<AgentRunInput> & { permissions?: string[]; alias?: string } = {}): AgentRunInput {
  const { permissions = [], alias = 'fake', ...rest } = over;
  return {
    agent: { key: 'writer', modelAlias: alias, toolPermissions: permissions },
    messages,
    models: createModelProvider({ fake: fakeModelAlias(fake), demo: DEMO_ALIAS }, { maxRetries: 0, demo: { wordDelayMs: 0 } }),
    toolDeps: { roomId: 'room-1', redactor, search: createTavilySearch({ apiKey: 'tvly-k', baseUrl: tavily.baseUrl }) },
    limits: { maxOutputTokens: 200, modelTimeoutMs: 5_000, recursionLimit: 10 },
    ...rest,
  };
}

/** Callbacks that record everything, in order. */
function recorder() {
  const deltas: string[] = [];
  const events: { kind: string; [k: string]: unknown }[] = [];
  const callbacks: AgentRunCallbacks = {
    onDelta: (t) => deltas.push(t),
    onToolStart: (e) => events.push({ kind: 'start', ...e }),
    onToolProgress: (e) => events.push({ kind: 'progress', ...e }),
    onToolEnd: (e) => events.push({ kind: 'end', ...e }),
  };
  return { deltas, events, callbacks };
}

describe('runAgent: streaming and usage', () => {
  it('streams deltas whose concatenation is the returned text', async () => {
    fake.enqueue({ text: ['Green ', 'tea ', 'is ', 'great.'], usage: { promptTokens: 40, completionTokens: 4 } });
    const rec = recorder();
    const result = await runAgent({ ...input(), callbacks: rec.callbacks });

    expect(rec.deltas).toEqual(['Green ', 'tea ', 'is ', 'great.']);
    expect(result).toMatchObject({ text: 'Green tea is great.', finishReason: 'stop', cancelled: false, toolCalls: [] });
    expect(result.error).toBeUndefined();
    expect(result.usage).toEqual([
      {
        purpose: 'agent',
        modelAlias: 'fake',
        model: 'fake-model',
        inputTokens: 40,
        outputTokens: 4,
        costUsd: 0.000048,
        latencyMs: expect.any(Number),
        estimated: false,
        status: 'completed',
        charged: true,
      },
    ]);
  });

  it('runs a web_search round against Tavily, reports the tool, and records usage for both calls', async () => {
    fake.enqueue(
      { toolCalls: [{ id: 'call_s1', name: 'web_search', args: { query: 'tea history' } }], usage: { promptTokens: 50, completionTokens: 10 } },
      { text: 'Tea began in China.', usage: { promptTokens: 90, completionTokens: 6 } },
    );
    const before = fake.requests.length;
    const rec = recorder();
    const result = await runAgent({ ...input({ permissions: ['web_search'] }), callbacks: rec.callbacks });

    expect(result.text).toBe('Tea began in China.');
    expect(result.usage.map((u) => [u.inputTokens, u.outputTokens])).toEqual([
      [50, 10],
      [90, 6],
    ]);
    expect(rec.events.map((e) => e.kind)).toEqual(['start', 'progress', 'progress', 'end']);
    expect(rec.events[0]).toEqual({ kind: 'start', toolCallId: 'call_s1', toolName: 'web_search', input: { query: 'tea history' } });
    expect(rec.events[3]).toMatchObject({ kind: 'end', toolCallId: 'call_s1', status: 'succeeded', latencyMs: expect.any(Number) });
    expect(result.toolCalls).toEqual([
      expect.objectContaining({ toolCallId: 'call_s1', toolName: 'web_search', input: { query: 'tea history' }, status: 'succeeded', output: expect.objectContaining({ resultCount: 1 }) }),
    ]);
    expect(tavily.requests.at(-1)?.body.query).toBe('tea history');
    // The second model call read the tool's result.
    const second = fake.requests[before + 1]!;
    expect(second.body.messages.at(-1)).toMatchObject({ role: 'tool', tool_call_id: 'call_s1' });
    expect(transcriptOf(second)).toContain('Web results for "tea history"');
  });

  it('starts a new paragraph when the model speaks again after a tool round, as a delta too', async () => {
    fake.enqueue(
      { text: 'Let me check.', toolCalls: [{ id: 'c1', name: 'web_search', args: { query: 'q' } }] },
      { text: 'Found it.' },
    );
    const rec = recorder();
    const result = await runAgent({ ...input({ permissions: ['web_search'] }), callbacks: rec.callbacks });
    expect(result.text).toBe('Let me check.\n\nFound it.');
    expect(rec.deltas.join('')).toBe(result.text);
  });

  it('runs parallel tool calls of one answer, each with its own start and end', async () => {
    fake.enqueue(
      { toolCalls: [{ id: 'a', name: 'web_search', args: { query: 'one' } }, { id: 'b', name: 'web_search', args: { query: 'two' } }] },
      { text: 'Both done.' },
    );
    const rec = recorder();
    const result = await runAgent({ ...input({ permissions: ['web_search'] }), callbacks: rec.callbacks });
    expect(result.toolCalls.map((c) => c.toolCallId).sort()).toEqual(['a', 'b']);
    expect(rec.events.filter((e) => e.kind === 'end')).toHaveLength(2);
    expect(result.usage).toHaveLength(2);
  });

  it('streams the demo model through the same graph', async () => {
    const rec = recorder();
    const result = await runAgent({ ...input({ alias: 'demo', permissions: ['web_search'] }), callbacks: rec.callbacks });
    expect(result.text).toBe(demoReply(messages));
    expect(rec.deltas.length).toBeGreaterThan(5);
    expect(rec.deltas.join('')).toBe(result.text);
    expect(result.usage).toEqual([expect.objectContaining({ modelAlias: 'demo', costUsd: 0, estimated: false })]);
  });
});

/**
 * The shapes an OpenAI-compatible stream comes in: `delta.role` is optional (some servers and
 * proxies never send it), `content` may be null, finish_reason may ride on the last delta, usage
 * may come in its own `choices: []` chunk, on the last delta, or not at all.
 */
const SHAPES: [string, FakeStreamShape][] = [
  ['role on the first chunk only (OpenAI)', {}],
  ['no role on any chunk', { omitRole: true }],
  ['content null in deltas without text', { nullContent: true }],
  ['finish_reason only on the last delta', { finishReasonIn: 'last-delta' }],
  ['usage on the last delta', { usageIn: 'last-delta' }],
  ['no role, null content, finish_reason and usage on the last delta', { omitRole: true, nullContent: true, finishReasonIn: 'last-delta', usageIn: 'last-delta' }],
];

/** A model in the process: its chunks come without any I/O, in the same tick as what came before. */
class InProcessToolModel extends BaseChatModel {
  constructor(private readonly toolName: string) {
    super({});
  }
  _llmType() {
    return 'in-process';
  }
  override bindTools() {
    return this as never;
  }
  async _generate(): Promise<ChatResult> {
    throw new Error('streams only');
  }
  override async *_streamResponseChunks(messages: BaseMessage[]): AsyncGenerator<ChatGenerationChunk> {
    const afterTool = isToolMessage(messages.at(-1)!);
    const chunk = (fields: ConstructorParameters<typeof AIMessageChunk>[0]) => new ChatGenerationChunk({ text: '', message: new AIMessageChunk(fields) });
    if (afterTool) {
      for (const t of ['Found ', 'it.']) yield chunk({ content: t });
      yield chunk({ content: '', response_metadata: { finish_reason: 'stop' } });
      return;
    }
    yield chunk({ content: 'Looking. ' });
    yield chunk({ content: '', tool_call_chunks: [{ index: 0, id: 'c1', name: this.toolName, args: '{"query":"q"}', type: 'tool_call_chunk' }] });
    yield chunk({ content: '', response_metadata: { finish_reason: 'tool_calls' } });
  }
}

describe('runAgent: order of text and tool events', () => {
  // An unknown tool fails in the tool node without any I/O: its start and end come from the node's update.
  it.each([
    ['web_search', 'succeeded'],
    ['no_such_tool', 'failed'],
  ])('reports a tool round (%s) and the text around it in the order they happened, with a model that streams without I/O', async (toolName, status) => {
    const model = new InProcessToolModel(toolName);
    const base = input({ permissions: ['web_search'] });
    const order: string[] = [];
    const result = await runAgent({
      ...base,
      models: { ...base.models, chatModel: () => model },
      callbacks: {
        onDelta: (t) => order.push(`delta ${t}`),
        onToolStart: (e) => order.push(`start ${e.toolCallId}`),
        onToolProgress: () => undefined,
        onToolEnd: (e) => order.push(`end ${e.toolCallId} ${e.status}`),
      },
    });
    expect(result.error).toBeUndefined();
    expect(order).toEqual(['delta Looking. ', 'start c1', `end c1 ${status}`, 'delta \n\n', 'delta Found ', 'delta it.']);
    expect(result.text).toBe('Looking. \n\nFound it.');
    expect(result.finishReason).toBe('stop');
  });
});

describe('runAgent: one graph per agent configuration', () => {
  it('runs of one configuration share the model and graph, and each keeps its own text and usage', async () => {
    // One provider and one set of tool backends, as in the server: the second and third runs reuse
    // what the first built, at the same time, and must not see each other's calls.
    const shared = input({ permissions: ['web_search'] });
    fake.setResponder((req) => {
      const asked = JSON.stringify(req.body.messages).includes('about coffee') ? 'coffee' : 'tea';
      return { text: [`About `, asked], usage: { promptTokens: asked === 'coffee' ? 11 : 22, completionTokens: 2 } };
    });
    const about = (topic: string) =>
      buildAgentMessages({ agent: { key: 'writer', name: 'Writer', rolePrompt: 'You write.' }, recent: [{ authorType: 'user', authorName: 'Alice', content: `Tell me about ${topic}` }] });
    await runAgent({ ...shared, messages: about('tea') });
    const [tea, coffee] = await Promise.all([runAgent({ ...shared, messages: about('tea') }), runAgent({ ...shared, messages: about('coffee') })]);
    expect(tea.text).toBe('About tea');
    expect(coffee.text).toBe('About coffee');
    expect(tea.usage).toEqual([expect.objectContaining({ inputTokens: 22, outputTokens: 2 })]);
    expect(coffee.usage).toEqual([expect.objectContaining({ inputTokens: 11, outputTokens: 2 })]);
  });
});

describe('runAgent: stream shapes', () => {
  describe.each(SHAPES)('%s', (_name, shape) => {
    it('streams every word as a delta and reports the provider usage', async () => {
      fake.enqueue({ ...shape, text: ['Green ', 'tea ', 'is ', 'great.'], usage: { promptTokens: 40, completionTokens: 4 } });
      const rec = recorder();
      const result = await runAgent({ ...input(), callbacks: rec.callbacks });
      expect(rec.deltas).toEqual(['Green ', 'tea ', 'is ', 'great.']);
      expect(result).toMatchObject({ text: 'Green tea is great.', finishReason: 'stop', cancelled: false });
      expect(result.error).toBeUndefined();
      expect(result.usage).toEqual([expect.objectContaining({ inputTokens: 40, outputTokens: 4, estimated: false })]);
    });

    it('without usage from the server: the full text, usage estimated from it', async () => {
      fake.enqueue({ ...shape, text: ['Oolong ', 'is ', 'half-oxidised.'], omitUsage: true });
      const rec = recorder();
      const result = await runAgent({ ...input(), callbacks: rec.callbacks });
      expect(result.text).toBe('Oolong is half-oxidised.');
      expect(rec.deltas.join('')).toBe(result.text);
      expect(result.finishReason).toBe('stop');
      expect(result.usage).toEqual([expect.objectContaining({ estimated: true, outputTokens: Math.ceil(result.text.length / 4) })]);
    });

    it('runs a tool call whose deltas split name and arguments across chunks, then answers', async () => {
      fake.enqueue(
        { ...shape, text: 'Let me look.', toolCalls: [{ id: 'call_t1', name: 'web_search', args: { query: 'matcha grades' } }], usage: { promptTokens: 50, completionTokens: 12 } },
        { ...shape, text: 'Ceremonial and culinary.', usage: { promptTokens: 90, completionTokens: 5 } },
      );
      const before = fake.requests.length;
      const rec = recorder();
      const result = await runAgent({ ...input({ permissions: ['web_search'] }), callbacks: rec.callbacks });
      expect(result.error).toBeUndefined();
      expect(result.text).toBe('Let me look.\n\nCeremonial and culinary.');
      expect(rec.deltas.join('')).toBe(result.text);
      expect(result.toolCalls).toEqual([expect.objectContaining({ toolCallId: 'call_t1', toolName: 'web_search', input: { query: 'matcha grades' }, status: 'succeeded' })]);
      expect(result.usage.map((u) => [u.inputTokens, u.outputTokens, u.estimated])).toEqual([
        [50, 12, false],
        [90, 5, false],
      ]);
      // The answer went back to the model as the assistant's turn, with its tool call.
      const second = fake.requests[before + 1]!;
      expect(second.body.messages.at(-2)).toMatchObject({ role: 'assistant', tool_calls: [expect.objectContaining({ id: 'call_t1' })] });
      expect(second.body.messages.at(-1)).toMatchObject({ role: 'tool', tool_call_id: 'call_t1' });
    });

    it('an answer with neither text nor a tool call is EMPTY_ANSWER, still with the provider usage', async () => {
      fake.enqueue({ ...shape, text: [], usage: { promptTokens: 40, completionTokens: 0 } });
      const rec = recorder();
      const result = await runAgent({ ...input(), callbacks: rec.callbacks });
      expect(rec.deltas).toEqual([]);
      expect(result).toMatchObject({ text: '', finishReason: 'stop', cancelled: false, error: { code: 'EMPTY_ANSWER' } });
      expect(result.usage).toEqual([expect.objectContaining({ inputTokens: 40, outputTokens: 0, estimated: false })]);
    });
  });

  it('role-less parallel tool calls of one answer each run', async () => {
    fake.enqueue(
      { omitRole: true, toolCalls: [{ id: 'a', name: 'web_search', args: { query: 'one' } }, { id: 'b', name: 'web_search', args: { query: 'two' } }] },
      { omitRole: true, text: 'Both done.' },
    );
    const result = await runAgent(input({ permissions: ['web_search'] }));
    expect(result.toolCalls.map((c) => [c.toolCallId, c.input])).toEqual([
      ['a', { query: 'one' }],
      ['b', { query: 'two' }],
    ]);
    expect(result.text).toBe('Both done.');
  });

  it('a server-wide role-less default applies to replies that do not set their own', async () => {
    fake.setStreamShape({ omitRole: true });
    try {
      fake.enqueue({ text: ['No ', 'role.'] }, { omitRole: false, text: ['With ', 'role.'] });
      const first = recorder();
      expect((await runAgent({ ...input(), callbacks: first.callbacks })).text).toBe('No role.');
      expect((await runAgent(input())).text).toBe('With role.');
      expect(first.deltas).toEqual(['No ', 'role.']);
    } finally {
      fake.setStreamShape({});
    }
  });

  it('whitespace only is EMPTY_ANSWER too, with the finish reason in the message', async () => {
    fake.enqueue({ text: ['\n', '  '], finishReason: 'length' });
    const rec = recorder();
    const result = await runAgent({ ...input(), callbacks: rec.callbacks });
    expect(rec.deltas.join('')).toBe('\n  ');
    expect(result).toMatchObject({ text: '\n  ', finishReason: 'length', error: { code: 'EMPTY_ANSWER', message: expect.stringContaining('length') } });
  });

  it('an agent that used a tool and then said nothing is not flagged empty', async () => {
    fake.enqueue({ toolCalls: [{ id: 'quiet', name: 'web_search', args: { query: 'q' } }] }, { text: [] });
    const result = await runAgent(input({ permissions: ['web_search'] }));
    expect(result.error).toBeUndefined();
    expect(result.text).toBe('');
    expect(result.toolCalls).toEqual([expect.objectContaining({ toolCallId: 'quiet', status: 'succeeded' })]);
  });
});

describe('runAgent: tool permissions', () => {
  it('sends no tools at all to an agent without permissions', async () => {
    fake.enqueue({ text: 'ok' });
    await runAgent(input({ permissions: [] }));
    expect(fake.requests.at(-1)!.body.tools).toBeUndefined();
  });

  it('binds only the permitted tool: a forbidden one is absent from the request', async () => {
    fake.enqueue({ text: 'ok' });
    const reader = { read: async () => null };
    await runAgent(input({ permissions: ['read_file'], toolDeps: { roomId: 'r', redactor, files: reader, search: createTavilySearch({ apiKey: 'tvly-k', baseUrl: tavily.baseUrl }) } }));
    expect(toolNamesOf(fake.requests.at(-1)!)).toEqual(['read_file']);
  });

  it('records a call to a tool the agent does not have as failed, and carries on', async () => {
    fake.enqueue({ toolCalls: [{ id: 'x1', name: 'web_search', args: { query: 'q' } }] }, { text: 'Without search then.' });
    const reader = { read: async () => null };
    const before = tavily.requests.length;
    const rec = recorder();
    const result = await runAgent({ ...input({ permissions: ['read_file'], toolDeps: { roomId: 'r', redactor, files: reader } }), callbacks: rec.callbacks });
    expect(tavily.requests.length).toBe(before);
    expect(result.text).toBe('Without search then.');
    expect(result.toolCalls).toEqual([expect.objectContaining({ toolCallId: 'x1', toolName: 'web_search', status: 'failed', error: expect.stringContaining('not found') })]);
    expect(rec.events.map((e) => e.kind)).toEqual(['start', 'end']);
  });

  it('records arguments that fail the tool schema as a failed call', async () => {
    fake.enqueue({ toolCalls: [{ id: 'bad', name: 'web_search', args: { query: '' } }] }, { text: 'Sorry.' });
    const result = await runAgent(input({ permissions: ['web_search'] }));
    expect(result.toolCalls).toEqual([expect.objectContaining({ toolCallId: 'bad', status: 'failed' })]);
    expect(result.text).toBe('Sorry.');
  });
});

describe('runAgent: cancel', () => {
  it('aborts the HTTP request mid-stream and keeps the partial text', async () => {
    // Two words, then the server goes quiet: the cancel lands while the response is still open.
    fake.enqueue({ text: ['one ', 'two ', 'three'], hangAfterChunks: 3 });
    const controller = new AbortController();
    const rec = recorder();
    const onDelta = (t: string) => {
      rec.deltas.push(t);
      if (rec.deltas.length === 2) controller.abort();
    };
    const result = await runAgent({ ...input(), signal: controller.signal, callbacks: { onDelta } });

    expect(result.cancelled).toBe(true);
    expect(result.finishReason).toBe('cancelled');
    expect(result.error).toBeUndefined();
    expect(result.text).toBe('one two ');
    expect(await fake.requests.at(-1)!.ended).toBe('client-closed');
    // The cancelled call still counts, estimated from what streamed.
    expect(result.usage).toEqual([expect.objectContaining({ estimated: true, outputTokens: 2 })]);
  });

  it('ends a tool call that was running when the turn was cancelled', async () => {
    fake.enqueue({ toolCalls: [{ id: 'slow', name: 'web_search', args: { query: 'q' } }] });
    const controller = new AbortController();
    const rec = recorder();
    const result = await runAgent({
      ...input({ permissions: ['web_search'], toolDeps: { roomId: 'r', redactor, search: createTavilySearch({ apiKey: 'tvly-k', baseUrl: slowTavily.baseUrl }) } }),
      signal: controller.signal,
      callbacks: { ...rec.callbacks, onToolProgress: () => controller.abort() },
    });
    expect(result.cancelled).toBe(true);
    expect(result.toolCalls).toEqual([expect.objectContaining({ toolCallId: 'slow', status: 'failed', error: 'cancelled' })]);
    expect(rec.events.map((e) => e.kind)).toEqual(['start', 'end']);
  });
});

describe('runAgent: failures are returned, not thrown', () => {
  it('HTTP 500 is MODEL_ERROR with the status', async () => {
    fake.enqueue({ status: 500, errorMessage: 'upstream exploded' });
    const result = await runAgent(input());
    expect(result.error).toMatchObject({ code: 'MODEL_ERROR', status: 500, message: 'The model provider is unavailable (500)' });
    // The provider's own words are kept apart, for the log only.
    expect(result.error).toMatchObject({ detail: expect.stringContaining('upstream exploded') });
    expect(result).toMatchObject({ text: '', cancelled: false, finishReason: null });
  });

  it('a stream cut mid-way is MODEL_STREAM_ERROR and keeps what streamed', async () => {
    let sawPartial!: () => void;
    const cutWhen = new Promise<void>((resolve) => (sawPartial = resolve));
    fake.enqueue({ text: ['par', 'tial ', 'lost'], cutAfterChunks: 3, cutWhen });
    const rec = recorder();
    const onDelta = (t: string) => {
      rec.deltas.push(t);
      if (rec.deltas.join('') === 'partial ') sawPartial();
    };
    const result = await runAgent({ ...input(), callbacks: { onDelta } });
    expect(result.error?.code).toBe('MODEL_STREAM_ERROR');
    expect(result.text).toBe('partial ');
    expect(rec.deltas.join('')).toBe('partial ');
    expect(fake.requests.at(-1)!.outcome).toBe('server-cut');
  });

  it('a stream that hangs is MODEL_TIMEOUT after the deadline, and the request is closed', async () => {
    fake.enqueue({ text: ['still ', 'there?'], hangAfterChunks: 2 });
    const result = await runAgent(input({ limits: { maxOutputTokens: 50, modelTimeoutMs: 200, recursionLimit: 10 } }));
    expect(result.error).toMatchObject({ code: 'MODEL_TIMEOUT' });
    expect(result.text).toBe('still ');
    expect(await fake.requests.at(-1)!.ended).toBe('client-closed');
  });

  it('a server that never answers is MODEL_TIMEOUT too', async () => {
    fake.enqueue({ hangBeforeHeaders: true });
    const result = await runAgent(input({ limits: { maxOutputTokens: 50, modelTimeoutMs: 150, recursionLimit: 10 } }));
    expect(result.error?.code).toBe('MODEL_TIMEOUT');
  });

  it('a model that keeps calling tools stops at the recursion limit with TOOL_LOOP_LIMIT', async () => {
    let n = 0;
    fake.setResponder(() => ({ toolCalls: [{ id: `loop${++n}`, name: 'web_search', args: { query: `again ${n}` } }] }));
    const result = await runAgent(input({ permissions: ['web_search'], limits: { maxOutputTokens: 50, modelTimeoutMs: 5_000, recursionLimit: 5 } }));
    expect(result.error?.code).toBe('TOOL_LOOP_LIMIT');
    expect(result.usage.length).toBeGreaterThanOrEqual(2);
    expect(result.toolCalls.every((c) => c.status === 'succeeded')).toBe(true);
  });

  it("a throwing callback is the caller's error, thrown as is", async () => {
    fake.enqueue({ text: 'hello there' });
    const bug = new Error('broadcast failed');
    await expect(runAgent({ ...input(), callbacks: { onDelta: () => { throw bug; } } })).rejects.toBe(bug);
  });

  it('an alias that is not configured is an error result', async () => {
    const result = await runAgent(input({ alias: 'gone' }));
    expect(result.error).toMatchObject({ code: 'UNKNOWN_MODEL_ALIAS' });
    expect(result.usage).toEqual([]);
  });
});

describe('runAgent: same-turn context', () => {
  it("a later agent's request carries the earlier agents' answers of the turn", async () => {
    fake.enqueue({ text: 'Draft: Sip the calm.' }, { text: 'Too bland.' }, { text: 'Final: Calm in a cup.' });
    const recent = [{ authorType: 'user' as const, authorName: 'Alice', content: 'Tagline for a tea shop?' }];
    const team = [
      { key: 'writer', name: 'Writer', rolePrompt: 'Writes.' },
      { key: 'critic', name: 'Critic', rolePrompt: 'Critiques.' },
      { key: 'editor', name: 'Editor', rolePrompt: 'Edits.' },
    ];
    const answers: { agentKey: string; agentName: string; content: string }[] = [];
    for (const agent of team) {
      const result = await runAgent({ ...input(), agent: { key: agent.key, modelAlias: 'fake', toolPermissions: [] }, messages: buildAgentMessages({ agent, team, recent, sameTurn: answers }) });
      answers.push({ agentKey: agent.key, agentName: agent.name, content: result.text });
    }
    const third = transcriptOf(fake.requests.at(-1)!);
    expect(third).toContain('You are Editor');
    expect(third).toContain(`user: ${JSON.stringify({ from: 'Alice', as: 'person', text: 'Tagline for a tea shop?' })}`);
    expect(third).toContain(`user: ${JSON.stringify({ from: 'Writer', as: 'agent', text: 'Draft: Sip the calm.' })}`);
    expect(third).toContain(`user: ${JSON.stringify({ from: 'Critic', as: 'agent', text: 'Too bland.' })}`);
  });
});
