import { randomUUID } from 'node:crypto';
import type { BaseLanguageModelInput } from '@langchain/core/language_models/base';
import { BaseChatModel } from '@langchain/core/language_models/chat_models';
import type { AIMessageChunk, BaseMessage, BaseMessageChunk } from '@langchain/core/messages';
import type { ChatGenerationChunk } from '@langchain/core/outputs';
import type { Runnable, RunnableConfig } from '@langchain/core/runnables';
import { withDeadline } from './deadline';
import { textOfContent } from './message-text';
import { ChunkMerger } from './chunk-merger';

/**
 * Model calls are always streamed and the chunks merged, never made with `.invoke()`:
 *
 * - A streaming ChatOpenAI invoked without a streaming callback handler goes through `_generate`,
 *   which counts tokens with tiktoken, and tiktoken first downloads its encoding from the network:
 *   offline (CI, air-gapped servers) the call hangs and ignores the abort signal.
 * - Inside a graph, `.invoke()` streams (LangGraph's handler asks for it) but the merged message
 *   loses `finish_reason` (ChatOpenAI puts it in generationInfo, which only streaming copies
 *   into response_metadata).
 *
 * A chat model that streams is read straight from its chunk generator (`_streamResponseChunks`),
 * the loop `.stream()` runs inside: without LangChain's callback managers, run trees and the
 * async-context hop `.stream()` pays on every chunk (no tracing is configured, and nothing here
 * listens to those callbacks; the caller gets each chunk through `onChunk`). Text chunks are
 * merged by joining their text, not by `AIMessageChunk.concat` per chunk (src/llm/chunk-merger.ts).
 */

export type ChatRunnable = Runnable<BaseLanguageModelInput, AIMessageChunk>;

/** Called with each chunk as it arrives, before it is merged (its id set: one id per call). */
export type OnChunk = (chunk: BaseMessageChunk) => void;

/** A chat model whose chunk generator can be read directly: it streams, and streaming is on. */
type StreamingChatModel = BaseChatModel & {
  _streamResponseChunks(messages: BaseMessage[], options: object): AsyncGenerator<ChatGenerationChunk>;
  /** ChatOpenAI: its bound options (tools) under the call's, as its `.stream()` applies them. */
  _combineCallOptions?(options: object): object;
};

function directStreaming(model: ChatRunnable): StreamingChatModel | undefined {
  if (!(model instanceof BaseChatModel)) return undefined;
  const m = model as unknown as StreamingChatModel & { disableStreaming?: boolean };
  if (m.disableStreaming || m._streamResponseChunks === BaseChatModel.prototype._streamResponseChunks) return undefined;
  return m;
}

/** Streams one call to completion and merges the chunks; the merged message carries usage and finish_reason. */
export async function mergeStream(
  model: ChatRunnable,
  messages: BaseMessage[],
  config: RunnableConfig,
  progress?: StreamProgress,
  onChunk?: OnChunk,
): Promise<AIMessageChunk | undefined> {
  const merger = new ChunkMerger();
  const direct = directStreaming(model);
  if (!direct) {
    for await (const chunk of await model.stream(messages, config)) {
      if (progress) progress.streamed = true;
      onChunk?.(chunk);
      merger.add(chunk);
    }
    return merger.result() as AIMessageChunk | undefined;
  }
  // What BaseChatModel._streamIterator does around the generator, less the callbacks: a chunk
  // without an id gets the call's, and the generation info (finish_reason) goes into the
  // message's response_metadata.
  const signal = config.signal;
  const callId = `run-${randomUUID()}`;
  const options = direct._combineCallOptions ? direct._combineCallOptions({ signal }) : { signal };
  for await (const generation of direct._streamResponseChunks(messages, options)) {
    signal?.throwIfAborted();
    const chunk = generation.message as BaseMessageChunk;
    if (progress) progress.streamed = true;
    if (chunk.id == null) chunk._updateId(callId);
    chunk.response_metadata = { ...generation.generationInfo, ...chunk.response_metadata };
    onChunk?.(chunk);
    merger.add(chunk);
  }
  signal?.throwIfAborted();
  return merger.result() as AIMessageChunk | undefined;
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
