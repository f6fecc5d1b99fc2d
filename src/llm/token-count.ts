import type { BaseMessage } from '@langchain/core/messages';
import type { StructuredToolInterface } from '@langchain/core/tools';
import { convertToOpenAITool } from '@langchain/core/utils/function_calling';
import * as cl100k from 'gpt-tokenizer/encoding/cl100k_base';
import * as o200k from 'gpt-tokenizer/encoding/o200k_base';
import { estimateTokens, MESSAGE_OVERHEAD_TOKENS } from '../domain/budget';
import { BoundedCache } from '../shared/bounded-cache';
import { textOfContent } from './message-text';

/**
 * Token counts of what is really sent: OpenAI-family models are counted with their own encoding
 * (gpt-tokenizer, no download), every other model with the character rule (src/domain/budget.ts).
 * The same count reserves budget before a call, estimates a call the server reported no usage
 * for, and stops a stream at a budget.
 */
export interface TokenCounter {
  /** 'o200k_base', 'cl100k_base' or 'chars' (the four-characters rule). */
  readonly encoding: string;
  count(text: string): number;
  /**
   * A quick upper bound of `count(text)`, for a caller that only needs to know it stays under a
   * limit: UTF-8 bytes for the byte-level encodings (no token is shorter than a byte).
   */
  bound(text: string): number;
  /** The longest prefix of `text` that counts at most `maxTokens`. */
  truncate(text: string, maxTokens: number): string;
}

/** Text of a member may hold `<|endoftext|>` and the like: counted as the plain text it is. */
const PLAIN = { disallowedSpecial: new Set<string>() };

function truncateBy(count: (t: string) => number, text: string, maxTokens: number): string {
  if (maxTokens <= 0) return '';
  if (count(text) <= maxTokens) return text;
  // Counts grow with the prefix (near enough for both rules): the longest prefix that fits.
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (count(text.slice(0, mid)) <= maxTokens) lo = mid;
    else hi = mid - 1;
  }
  return text.slice(0, lo);
}

/** Texts at least this long have their count remembered (a turn counts its history once per agent). */
const MEMO_MIN_CHARS = 256;
const MEMO_ENTRIES = 512;

const bpeCounter = (encoding: string, lib: typeof o200k): TokenCounter => {
  // The same history is counted for every agent of a room and again at the next turn: long texts'
  // counts are kept (bounded), short ones are cheaper to encode than to look up.
  const memo = new BoundedCache<string, number>(MEMO_ENTRIES);
  const encode = (t: string) => lib.countTokens(t, PLAIN);
  const count = (t: string) => (!t ? 0 : t.length < MEMO_MIN_CHARS ? encode(t) : memo.getOrCreate(t, () => encode(t)));
  // A truncation tries many prefixes: encoded directly, so they do not crowd the memo out.
  return { encoding, count, bound: (t) => Buffer.byteLength(t), truncate: (t, n) => truncateBy((x) => (x ? encode(x) : 0), t, n) };
};

export const charCounter: TokenCounter = { encoding: 'chars', count: estimateTokens, bound: estimateTokens, truncate: (t, n) => truncateBy(estimateTokens, t, n) };
const O200K = bpeCounter('o200k_base', o200k);
const CL100K = bpeCounter('cl100k_base', cl100k as typeof o200k);

/** The counter for a provider's model name: OpenAI's encodings by family, else the character rule. */
export function tokenCounterFor(model: string): TokenCounter {
  const m = model.toLowerCase().replace(/^openai\//, '');
  if (/^(gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|gpt-oss|o\d|chatgpt-)/.test(m)) return O200K;
  if (/^(gpt-4|gpt-3\.5|text-embedding)/.test(m)) return CL100K;
  return charCounter;
}

/** What tool definitions add to a request: their JSON as the provider receives it. */
export const toolSchemasText = (tools: readonly StructuredToolInterface[]): string[] => tools.map((t) => JSON.stringify(convertToOpenAITool(t)));

/**
 * The tokens of a whole request: every message as sent (system prompt, room data, history, tool
 * calls and results), each with its framing, plus the tool schemas offered.
 */
export function requestTokens(counter: TokenCounter, messages: readonly BaseMessage[], toolSchemas: readonly string[] = []): number {
  let total = 3; // the reply's priming
  for (const m of messages) {
    total += MESSAGE_OVERHEAD_TOKENS + counter.count(textOfContent(m.content));
    const calls = (m as { tool_calls?: unknown[] }).tool_calls;
    if (calls?.length) total += counter.count(JSON.stringify(calls));
  }
  for (const s of toolSchemas) total += counter.count(s);
  return total;
}
