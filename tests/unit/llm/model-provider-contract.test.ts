import type { BaseMessage } from '@langchain/core/messages';
import { afterAll, beforeAll } from 'vitest';
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

// Every valid shape of the stream passes the same suite: OpenAI's own (the role on the first
// chunk only) and a server that never sends `delta.role`.
for (const shape of [{ name: 'OpenAI-compatible', omitRole: false }, { name: 'OpenAI-compatible without delta.role', omitRole: true }]) {
  modelProviderSuite(shape.name, {
    get models() {
      return createModelProvider({ fake: fakeModelAlias(fake) }, { maxRetries: 0 });
    },
    alias: 'fake',
    willAnswer(_prompt, reply) {
      fake.enqueue({
        omitRole: shape.omitRole,
        text: reply.chunks,
        ...(reply.usage ? { usage: { promptTokens: reply.usage.input, completionTokens: reply.usage.output } } : { omitUsage: true }),
        ...(reply.chunkDelayMs !== undefined ? { chunkDelayMs: reply.chunkDelayMs } : {}),
      });
      return reply.chunks.join('');
    },
    reportedUsage: (_prompt, _text, reply) => (reply.usage ? { input_tokens: reply.usage.input, output_tokens: reply.usage.output } : undefined),
    tools: {
      kind: 'scripted',
      willCall: (call) => fake.enqueue({ omitRole: shape.omitRole, toolCalls: [call] }),
      offered: () => toolNamesOf(fake.requests.at(-1)!),
    },
    lastRequestEnded: () => fake.requests.at(-1)!.ended,
  });
}
