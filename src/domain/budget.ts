/**
 * Token estimates without a tokenizer. Good enough to decide when a session needs summarising and
 * to trim a prompt; never used for billing when the model reports real usage.
 */

/** Extra tokens each chat message costs for its role and framing (OpenAI's rule of thumb). */
export const MESSAGE_OVERHEAD_TOKENS = 4;

/**
 * About four characters per token for ASCII text, one token per character elsewhere (CJK and
 * similar scripts tokenise near one per character; accented Latin is over-counted, the safe side).
 */
export function estimateTokens(text: string): number {
  let ascii = 0;
  let other = 0;
  for (const ch of text) {
    if (ch.charCodeAt(0) < 128) ascii++;
    else other++;
  }
  return Math.ceil(ascii / 4) + other;
}

export interface BudgetMessage {
  content: string;
}

export function estimateMessagesTokens(messages: readonly BudgetMessage[]): number {
  return messages.reduce((sum, m) => sum + estimateTokens(m.content) + MESSAGE_OVERHEAD_TOKENS, 0);
}

export interface ContextUsage {
  tokens: number;
  budget: number;
  exceeds: boolean;
}

/**
 * The summary rule: the session's live context (its current summary plus the messages not yet
 * folded into it, this turn's answers included) is over budget when its estimate exceeds it.
 */
export function contextUsage(context: { summary?: string | null; messages: readonly BudgetMessage[] }, budget: number): ContextUsage {
  const summaryTokens = context.summary ? estimateTokens(context.summary) + MESSAGE_OVERHEAD_TOKENS : 0;
  const tokens = summaryTokens + estimateMessagesTokens(context.messages);
  return { tokens, budget, exceeds: tokens > budget };
}

export const contextExceedsBudget = (context: { summary?: string | null; messages: readonly BudgetMessage[] }, budget: number): boolean =>
  contextUsage(context, budget).exceeds;
