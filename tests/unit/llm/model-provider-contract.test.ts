import type { BaseMessage } from '@langchain/core/messages';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { DEMO_ALIAS } from '../../../src/config/models';
import { estimateMessagesTokens, estimateTokens } from '../../../src/domain/budget';
import { demoReply } from '../../../src/llm/demo-model';
import { textOfContent } from '../../../src/llm/message-text';
import { createModelProvider } from '../../../src/llm/model-provider';
import { fakeModelAlias, startFakeOpenAI, toolNamesOf, type FakeOpenAI } from '../../helpers/fake-openai';
import { modelProviderSuite } from '../../helpers/model-provider-suite';

// The offline demo: its answer is a function of the prompt, and it reports its own token estimate.
modelProviderSuite('demo', {
  models: createModelProvider({ demo: DEMO_ALIAS }, { demo: { wordDelayMs: 0 } }),
  alias: 'demo',
  willAnswer: (prompt) => demoReply(prompt),
  reportedUsage: (prompt: BaseMessage[], text: string) => ({
    input_tokens: estimateMessagesTokens(prompt.map((m) => ({ content: textOfContent(m.content) }))),
    output_tokens: estimateTokens(text),
  }),
  tools: { kind: 'ignored' },
});

// An OpenAI-compatible endpoint (here the local test double): whatever the server streams.
let fake: FakeOpenAI;
beforeAll(async () => (fake = await startFakeOpenAI()));
afterAll(() => fake.close());

modelProviderSuite('OpenAI-compatible', {
  get models() {
    return createModelProvider({ fake: fakeModelAlias(fake) }, { maxRetries: 0 });
  },
  alias: 'fake',
  willAnswer(_prompt, reply) {
    fake.enqueue({
      text: reply.chunks,
      ...(reply.usage ? { usage: { promptTokens: reply.usage.input, completionTokens: reply.usage.output } } : { omitUsage: true }),
      ...(reply.chunkDelayMs !== undefined ? { chunkDelayMs: reply.chunkDelayMs } : {}),
    });
    return reply.chunks.join('');
  },
  reportedUsage: (_prompt, _text, reply) => (reply.usage ? { input_tokens: reply.usage.input, output_tokens: reply.usage.output } : undefined),
  tools: {
    kind: 'scripted',
    willCall: (call) => fake.enqueue({ toolCalls: [call] }),
    offered: () => toolNamesOf(fake.requests.at(-1)!),
  },
  lastRequestEnded: () => fake.requests.at(-1)!.ended,
});

describe('OpenAI-compatible provider: known gaps', () => {
  it.todo('a server whose chunks carry no delta.role: the chunks arrive as ChatMessageChunk, not AIMessageChunk, and the agent runner drops their text (known bug, tracked separately)');
});
