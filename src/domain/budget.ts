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
  // By code unit, not `for...of` (which makes a string of every character): a surrogate pair is
  // one character.
  let ascii = 0;
  let other = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 128) ascii++;
    else {
      other++;
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
        const next = text.charCodeAt(i + 1);
        if (next >= 0xdc00 && next <= 0xdfff) i++;
      }
    }
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

// Spending budgets: per room and per user per UTC day, per agent per turn.

/** The budgets a model call can run into; the names clients see in `BUDGET_EXCEEDED`. */
export const BUDGET_NAMES = ['roomDailyTokens', 'roomDailyCostUsd', 'userDailyTokens', 'userDailyCostUsd', 'agentTurnOutputTokens'] as const;
export type BudgetName = (typeof BUDGET_NAMES)[number];

/** The UTC day a time falls in, `YYYY-MM-DD`: the key of the daily budgets. */
export const utcDay = (at: Date): string => at.toISOString().slice(0, 10);

/** When a daily budget of `day` resets: the next UTC midnight, as an ISO string. */
export function dayResetsAt(day: string): string {
  const d = new Date(`${day}T00:00:00.000Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString();
}

/** One daily ledger row (room or user) as the database holds it. */
export interface LedgerState {
  spentTokens: number;
  spentCostUsd: number;
  reservedTokens: number;
  reservedCostUsd: number;
}

/** The limits of one ledger row; undefined is unlimited. */
export interface DailyLimits {
  tokens?: number;
  costUsd?: number;
}

export interface CallPrices {
  inputPerMillion: number;
  outputPerMillion: number;
}

export type Grant = { ok: true; outputTokens: number; boundBy: BudgetName | null } | { ok: false; budget: BudgetName };

/**
 * How many output tokens a call whose request is estimated at `inputTokens` may produce under one
 * budget row: what is left after what is spent, what other calls hold, and the request itself.
 * Refused when not even one output token is left. `boundBy` names the budget when it, not
 * `wanted`, sets the grant.
 */
export function grantUnder(
  state: LedgerState,
  limits: DailyLimits,
  names: { tokens: BudgetName; cost: BudgetName },
  call: { inputTokens: number; wanted: number; prices: CallPrices },
): Grant {
  let out = call.wanted;
  let boundBy: BudgetName | null = null;
  if (limits.tokens !== undefined) {
    const left = limits.tokens - state.spentTokens - state.reservedTokens - call.inputTokens;
    if (left < 1) return { ok: false, budget: names.tokens };
    if (left < out) [out, boundBy] = [left, names.tokens];
  }
  if (limits.costUsd !== undefined) {
    const left = limits.costUsd - state.spentCostUsd - state.reservedCostUsd - (call.inputTokens * call.prices.inputPerMillion) / 1e6;
    const tokens = call.prices.outputPerMillion > 0 ? Math.floor((left * 1e6) / call.prices.outputPerMillion) : left >= 0 ? Number.POSITIVE_INFINITY : 0;
    if (tokens < 1) return { ok: false, budget: names.cost };
    if (tokens < out) [out, boundBy] = [tokens, names.cost];
  }
  return { ok: true, outputTokens: out, boundBy };
}

/** What is left of a limit (never below zero); null for an unlimited one. */
export const remainingOf = (limit: number | undefined, used: number): number | null => (limit === undefined ? null : Math.max(0, limit - used));

/** A model call refused (or a stream stopped) by a budget: which one, and when it resets (null: with the next turn). */
export class BudgetExceededError extends Error {
  constructor(
    readonly budget: BudgetName,
    readonly resetsAt: string | null,
  ) {
    super(budgetMessage(budget, resetsAt));
    this.name = 'BudgetExceededError';
  }
}

const BUDGET_WORDS: Record<BudgetName, string> = {
  roomDailyTokens: "The room's daily token budget",
  roomDailyCostUsd: "The room's daily cost budget",
  userDailyTokens: 'Your daily token budget',
  userDailyCostUsd: 'Your daily cost budget',
  agentTurnOutputTokens: "The agent's output budget for one turn",
};

export function budgetMessage(budget: BudgetName, resetsAt: string | null): string {
  return `${BUDGET_WORDS[budget]} is spent; it resets ${resetsAt ? `at ${resetsAt}` : 'with the next turn'}`;
}
