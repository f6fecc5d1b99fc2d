import type { BaseMessageChunk } from '@langchain/core/messages';
import { ChatOpenAI, ChatOpenAICompletions } from '@langchain/openai';
import type { ModelAlias } from '../config/models';

type OpenAIAlias = Extract<ModelAlias, { kind: 'openai' }>;

/**
 * A ChatOpenAI for any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp, the test double).
 *
 * `timeout` only bounds the wait for response headers in the openai SDK (it is cleared once the
 * response starts), so it cannot stop a stream that stalls: callers add a whole-call deadline
 * (src/llm/deadline.ts). `maxRetries` goes to LangChain's caller, which retries only the request
 * itself, never a stream that already produced tokens.
 */
export function createOpenAIChatModel(
  alias: OpenAIAlias,
  opts: { maxTokens: number; timeoutMs: number; maxRetries: number },
): ChatOpenAI {
  const fields = {
    model: alias.model,
    // Local servers often need no key, but the client refuses to start without one.
    apiKey: alias.apiKey ?? 'not-needed',
    configuration: alias.baseUrl ? { baseURL: alias.baseUrl } : {},
    streaming: true,
    streamUsage: true,
    maxTokens: opts.maxTokens,
    timeout: opts.timeoutMs,
    maxRetries: opts.maxRetries,
  };
  // Passed in the fields (not set on the instance) so the copies bindTools/withConfig make keep it.
  return new ChatOpenAI({ ...fields, completions: new AssistantStreamCompletions(fields) });
}

/**
 * The Chat Completions client with every streamed delta read as the assistant's.
 *
 * A chat.completion.chunk stream only ever carries the assistant's message, but `delta.role` is
 * optional: OpenAI sends it on the first chunk only, and some compatible servers and proxies never
 * send it. @langchain/openai picks each chunk's class from the last role it saw
 * (convertCompletionsDeltaToBaseMessageChunk) and, having seen none, builds a generic
 * ChatMessageChunk: it drops the delta's tool calls and the completion id, LangGraph's `messages`
 * stream reports it as a non-AI message, and merging it with the closing AIMessageChunk loses the
 * usage. Defaulting the role to 'assistant' makes every chunk an AIMessageChunk, so text, tool-call
 * pieces and usage reach us the same way whatever shape the server streams. A role the server does
 * send still wins.
 */
class AssistantStreamCompletions extends ChatOpenAICompletions {
  protected override _convertCompletionsDeltaToBaseMessageChunk(
    ...[delta, rawResponse, defaultRole]: Parameters<ChatOpenAICompletions['_convertCompletionsDeltaToBaseMessageChunk']>
  ): BaseMessageChunk {
    return super._convertCompletionsDeltaToBaseMessageChunk(delta, rawResponse, defaultRole ?? 'assistant');
  }
}
