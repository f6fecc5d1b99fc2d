import { AIMessageChunk, HumanMessage } from '@langchain/core/messages';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ALIAS } from '../../../src/config/models';
import { streamModelCall } from '../../../src/llm/call-model';
import { classifyModelError, ModelTimeoutError } from '../../../src/llm/errors';
import { createModelProvider } from '../../../src/llm/model-provider';
import { fakeModelAlias, startFakeOpenAI, type FakeOpenAI } from '../../helpers/fake-openai';

let fake: FakeOpenAI;
beforeAll(async () => (fake = await startFakeOpenAI()));
afterAll(() => fake.close());

describe('OpenAI-compatible provider', () => {
  it('describes aliases and refuses unknown ones', () => {
    const models = createModelProvider({ fake: fakeModelAlias(fake), demo: DEMO_ALIAS });
    expect(models.describe('fake')).toEqual({ alias: 'fake', kind: 'openai', model: 'fake-model', prices: { inputPerMillion: 1, outputPerMillion: 2 } });
    expect(models.has('nope')).toBe(false);
    expect(() => models.describe('nope')).toThrow(expect.objectContaining({ code: 'UNKNOWN_MODEL_ALIAS' }));
  });

  it('shares one model per alias and options, and makes another for other options', () => {
    const models = createModelProvider({ fake: fakeModelAlias(fake), demo: DEMO_ALIAS });
    const agent = models.chatModel('fake', { maxTokens: 33, timeoutMs: 5000 });
    expect(models.chatModel('fake', { maxTokens: 33, timeoutMs: 5000 })).toBe(agent);
    expect(models.chatModel('fake', { maxTokens: 34, timeoutMs: 5000 })).not.toBe(agent);
    expect(models.chatModel('demo', { maxTokens: 33, timeoutMs: 5000 })).not.toBe(agent);
    expect(createModelProvider({ fake: fakeModelAlias(fake) }).chatModel('fake', { maxTokens: 33, timeoutMs: 5000 })).not.toBe(agent);
  });

  it('streams from the configured base URL with the key, the model, max tokens and usage requested', async () => {
    const models = createModelProvider({ fake: fakeModelAlias(fake) }, { maxRetries: 0 });
    fake.enqueue({ text: ['Hel', 'lo'], usage: { promptTokens: 7, completionTokens: 2 } });
    const before = fake.requests.length;
    const result = await streamModelCall(models.chatModel('fake', { maxTokens: 33, timeoutMs: 5000 }), [new HumanMessage('hi')], { timeoutMs: 5000 });

    const req = fake.requests[before]!;
    expect(req.headers.authorization).toBe('Bearer sk-test-key-123456');
    expect(req.body).toMatchObject({ model: 'fake-model', stream: true, stream_options: { include_usage: true }, max_tokens: 33 });
    expect(req.body.tools).toBeUndefined();
    expect(result.text).toBe('Hello');
    expect(result.message?.usage_metadata).toMatchObject({ input_tokens: 7, output_tokens: 2 });
  });

  // `delta.role` is optional in a chat.completion.chunk: OpenAI sends it on the first chunk only,
  // some servers never. Every chunk is still the assistant's, with its text, tool calls and usage.
  it.each([
    ['role on the first chunk only', { omitRole: false }],
    ['no role on any chunk', { omitRole: true }],
  ])('reads an answer streamed with %s as the assistant message, with usage and tool calls', async (_name, shape) => {
    const models = createModelProvider({ fake: fakeModelAlias(fake) }, { maxRetries: 0 });
    fake.enqueue({ ...shape, text: ['Hel', 'lo'], toolCalls: [{ id: 'call_1', name: 'lookup', args: { q: 'x' } }], usage: { promptTokens: 7, completionTokens: 9 } });
    const result = await streamModelCall(models.chatModel('fake', { maxTokens: 33, timeoutMs: 5000 }), [new HumanMessage('hi')], { timeoutMs: 5000 });
    expect(AIMessageChunk.isInstance(result.message)).toBe(true);
    expect(result.text).toBe('Hello');
    expect(result.message?.usage_metadata).toMatchObject({ input_tokens: 7, output_tokens: 9 });
    expect(result.message?.tool_calls).toEqual([expect.objectContaining({ id: 'call_1', name: 'lookup', args: { q: 'x' } })]);
    expect(result.message?.response_metadata.finish_reason).toBe('tool_calls');
  });

  it('enforces the whole-call deadline on a stream that stalls after headers', async () => {
    const models = createModelProvider({ fake: fakeModelAlias(fake) }, { maxRetries: 0 });
    fake.enqueue({ text: 'never finished', hangAfterChunks: 1 });
    const call = streamModelCall(models.chatModel('fake', { maxTokens: 10, timeoutMs: 5000 }), [new HumanMessage('hi')], { timeoutMs: 150 });
    await expect(call).rejects.toBeInstanceOf(ModelTimeoutError);
    // Timing out closes the request instead of leaving it open on the server.
    expect(await fake.requests.at(-1)!.ended).toBe('client-closed');
  });
});

describe('model errors', () => {
  it('classifies HTTP errors, cuts, refusals, timeouts and loops', () => {
    expect(classifyModelError(Object.assign(new Error('boom'), { status: 503 }), { streamStarted: true })).toMatchObject({ code: 'MODEL_ERROR', status: 503 });
    expect(classifyModelError(new TypeError('terminated'), { streamStarted: false }).code).toBe('MODEL_STREAM_ERROR');
    expect(classifyModelError(new Error('Connection error.'), { streamStarted: false }).code).toBe('MODEL_ERROR');
    expect(classifyModelError(new Error('weird frame'), { streamStarted: true }).code).toBe('MODEL_STREAM_ERROR');
    expect(classifyModelError(new ModelTimeoutError(10), { streamStarted: true }).code).toBe('MODEL_TIMEOUT');
    expect(classifyModelError(Object.assign(new Error('x'), { name: 'GraphRecursionError' }), { streamStarted: false }).code).toBe('TOOL_LOOP_LIMIT');
  });

  it('tells members a reason per provider status, never the provider’s text', () => {
    const fail = (status: number) =>
      classifyModelError(Object.assign(new Error(`${status} bad key ollama-canary-value sk-abcdefghijk`), { status }), { streamStarted: false });
    expect(fail(401).message).toBe('The model provider refused the credentials (401)');
    expect(fail(403).message).toBe('The model provider refused the credentials (403)');
    expect(fail(429).message).toBe('The model provider is rate limiting requests (429)');
    expect(fail(503).message).toBe('The model provider is unavailable (503)');
    expect(fail(400).message).toBe('The model provider refused the request (400)');
    for (const status of [400, 401, 429, 503]) expect(fail(status).message).not.toContain('canary');
    // The detail (for the log, which redacts configured values) has key-shaped strings cut already.
    expect(fail(401).detail).toBe('401 bad key ollama-canary-value sk-[redacted]');
    const refused = classifyModelError(new Error('connect ECONNREFUSED http://user:pw@host'), { streamStarted: false });
    expect(refused).toMatchObject({ code: 'MODEL_ERROR', message: 'The model server could not be reached' });
  });
});
