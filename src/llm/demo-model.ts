import { setTimeout as sleep } from 'node:timers/promises';
import type { CallbackManagerForLLMRun } from '@langchain/core/callbacks/manager';
import type { BaseLanguageModelInput } from '@langchain/core/language_models/base';
import { BaseChatModel, type BaseChatModelParams, type BindToolsInput } from '@langchain/core/language_models/chat_models';
import { AIMessageChunk, type BaseMessage } from '@langchain/core/messages';
import { ChatGenerationChunk, type ChatResult } from '@langchain/core/outputs';
import type { Runnable } from '@langchain/core/runnables';
import { estimateMessagesTokens, estimateTokens } from '../domain/budget';
import { textOfContent } from './message-text';

/**
 * The offline `demo` model: lets `npm start` work with no API key. It streams a deterministic
 * reply in the agent's voice (name and role read from the system prompt that src/turns/prompt.ts
 * writes), says plainly that it is the demo model, reports estimated usage, and stops on abort.
 */

export interface DemoModelOptions {
  /** Pause between streamed words; 0 in tests, a little in the product so streaming is visible. */
  wordDelayMs?: number;
  maxTokens?: number;
}

export class DemoChatModel extends BaseChatModel {
  private readonly wordDelayMs: number;
  private readonly maxTokens: number;

  constructor(options: DemoModelOptions & BaseChatModelParams = {}) {
    super(options);
    this.wordDelayMs = options.wordDelayMs ?? 15;
    this.maxTokens = options.maxTokens ?? 1024;
  }

  _llmType(): string {
    return 'pantheon-demo';
  }

  /** The demo never calls tools; binding them is accepted so agents with tools still run offline. */
  override bindTools(_tools: BindToolsInput[]): Runnable<BaseLanguageModelInput, AIMessageChunk> {
    return this;
  }

  override async *_streamResponseChunks(
    messages: BaseMessage[],
    options: this['ParsedCallOptions'],
    runManager?: CallbackManagerForLLMRun,
  ): AsyncGenerator<ChatGenerationChunk> {
    const words = demoReply(messages).match(/\S+\s*/g) ?? [];
    const limited = capWords(words, this.maxTokens);
    const inputTokens = estimateMessagesTokens(messages.map((m) => ({ content: textOfContent(m.content) })));
    for (let i = 0; i < limited.length; i++) {
      options.signal?.throwIfAborted();
      if (this.wordDelayMs > 0) await sleep(this.wordDelayMs, undefined, { signal: options.signal });
      const text = limited[i]!;
      const last = i === limited.length - 1;
      const chunk = new ChatGenerationChunk({
        text,
        message: new AIMessageChunk({
          content: text,
          // Usage on the last chunk only, like OpenAI's final usage chunk: chunks are summed when merged.
          ...(last
            ? {
                usage_metadata: {
                  input_tokens: inputTokens,
                  output_tokens: estimateTokens(limited.join('')),
                  total_tokens: inputTokens + estimateTokens(limited.join('')),
                },
                response_metadata: { finish_reason: limited.length < words.length ? 'length' : 'stop', model_name: 'demo' },
              }
            : {}),
        }),
      });
      yield chunk;
      await runManager?.handleLLMNewToken(text, undefined, undefined, undefined, undefined, { chunk });
    }
  }

  async _generate(messages: BaseMessage[], options: this['ParsedCallOptions'], runManager?: CallbackManagerForLLMRun): Promise<ChatResult> {
    let merged: ChatGenerationChunk | undefined;
    for await (const chunk of this._streamResponseChunks(messages, options, runManager)) {
      merged = merged ? merged.concat(chunk) : chunk;
    }
    if (!merged) throw new Error('demo model produced no output');
    return { generations: [merged] };
  }
}

/** Keeps whole words while their estimated tokens fit the cap. */
function capWords(words: string[], maxTokens: number): string[] {
  const kept: string[] = [];
  let used = 0;
  for (const w of words) {
    used += estimateTokens(w);
    if (used > maxTokens) break;
    kept.push(w);
  }
  return kept.length ? kept : words.slice(0, 1);
}

const oneLine = (s: string, max: number) => {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

/** The text of a message a person wrote: the prompt builder sends others' words as JSON `{ from, as, text }`. */
function personText(m: BaseMessage): string | undefined {
  if (m.getType() !== 'human') return undefined;
  const content = textOfContent(m.content);
  try {
    const data = JSON.parse(content) as { as?: unknown; text?: unknown };
    if (data && typeof data === 'object' && typeof data.text === 'string') return data.as === 'person' ? data.text : undefined;
    return undefined;
  } catch {
    // Plain text (a prompt not built by the prompt builder): "Name: what was said".
    return content.replace(/^[^:\n]{1,80}:\s*/, '');
  }
}

/** The demo's answer: a function of the prompt only, so the same prompt always streams the same words. */
export function demoReply(messages: readonly BaseMessage[]): string {
  const system = messages.filter((m) => m.getType() === 'system').map((m) => textOfContent(m.content)).join('\n');
  // The question is the last message from a person, not another agent's answer of the same turn.
  const said = [...messages].reverse().map(personText).find((t) => t !== undefined) ?? '';
  const name = /You are ([^,.\n]{1,60})/.exec(system)?.[1]?.trim() ?? 'Assistant';
  const role = /Your role:\s*([^\n]+)/.exec(system)?.[1];
  const roleSentence = role ? /^(.+?[.!?])(\s|$)/.exec(role.trim())?.[1] ?? role.trim() : undefined;

  const parts = [`${name} here, answering with the offline demo model.`];
  if (said) parts.push(`You said: "${oneLine(said, 160)}".`);
  if (roleSentence) parts.push(`From my role (${oneLine(roleSentence, 160)}), I would look at this carefully and reply in that spirit.`);
  parts.push('This is a placeholder answer: configure a real model (MODELS or OPENAI_API_KEY) for actual replies.');
  return parts.join(' ');
}
