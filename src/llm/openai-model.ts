import { ChatOpenAI } from '@langchain/openai';
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
  return new ChatOpenAI({
    model: alias.model,
    // Local servers often need no key, but the client refuses to start without one.
    apiKey: alias.apiKey ?? 'not-needed',
    configuration: alias.baseUrl ? { baseURL: alias.baseUrl } : {},
    streaming: true,
    streamUsage: true,
    maxTokens: opts.maxTokens,
    timeout: opts.timeoutMs,
    maxRetries: opts.maxRetries,
  });
}
