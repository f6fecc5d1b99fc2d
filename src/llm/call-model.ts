import type { BaseLanguageModelInput } from '@langchain/core/language_models/base';
import type { AIMessageChunk, BaseMessage } from '@langchain/core/messages';
import type { Runnable, RunnableConfig } from '@langchain/core/runnables';
import { withDeadline } from './deadline';
import { textOfContent } from './message-text';

/**
 * Model calls are always made with `.stream()` and the chunks merged, never with `.invoke()`:
 *
 * - A streaming ChatOpenAI invoked without a streaming callback handler goes through `_generate`,
 *   which counts tokens with tiktoken, and tiktoken first downloads its encoding from the network:
 *   offline (CI, air-gapped servers) the call hangs and ignores the abort signal.
 * - Inside a graph, `.invoke()` streams (LangGraph's handler asks for it) but the merged message
 *   loses `finish_reason` (ChatOpenAI puts it in generationInfo, which only `.stream()` copies
 *   into response_metadata).
 *
 * `.stream()` with the caller's config still reports every token to LangGraph's `messages` stream.
 */

export type ChatRunnable = Runnable<BaseLanguageModelInput, AIMessageChunk>;

/** Streams one call to completion and merges the chunks; the merged message carries usage and finish_reason. */
export async function mergeStream(
  model: ChatRunnable,
  messages: BaseMessage[],
  config: RunnableConfig,
  progress?: StreamProgress,
): Promise<AIMessageChunk | undefined> {
  let merged: AIMessageChunk | undefined;
  for await (const chunk of await model.stream(messages, config)) {
    if (progress) progress.streamed = true;
    merged = merged ? merged.concat(chunk) : chunk;
  }
  return merged;
}

/**
 * Whether a call's stream started: a call that fails before its first chunk was refused by the
 * provider (an HTTP error, no usage) and bills nothing.
 */
export interface StreamProgress {
  streamed: boolean;
}

export interface ModelCallResult {
  message: AIMessageChunk | undefined;
  text: string;
  latencyMs: number;
}

/** One model call outside a graph (the manager, the summary), under a whole-call deadline. */
export async function streamModelCall(
  model: ChatRunnable,
  messages: BaseMessage[],
  opts: { timeoutMs: number; signal?: AbortSignal; progress?: StreamProgress },
): Promise<ModelCallResult> {
  const started = performance.now();
  const message = await withDeadline(opts.timeoutMs, opts.signal, (signal) => mergeStream(model, messages, { signal }, opts.progress));
  return { message, text: message ? textOfContent(message.content) : '', latencyMs: performance.now() - started };
}
