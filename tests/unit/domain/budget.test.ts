import { describe, expect, it } from 'vitest';
import {
  contextExceedsBudget,
  contextUsage,
  dayResetsAt,
  estimateMessagesTokens,
  estimateTokens,
  grantUnder,
  MESSAGE_OVERHEAD_TOKENS,
  remainingOf,
  utcDay,
} from '../../../src/domain/budget';

describe('token estimates', () => {
  it('counts about four ASCII characters per token and one per CJK character', () => {
    expect(estimateTokens('')).toBe(0);
    expect(estimateTokens('abcd')).toBe(1);
    expect(estimateTokens('abcde')).toBe(2);
    expect(estimateTokens('你好世界')).toBe(4);
  });

  it('counts a character outside the basic plane (a surrogate pair) once, and a lone surrogate once', () => {
    expect(estimateTokens('😀')).toBe(1);
    expect(estimateTokens('ab😀cd😀')).toBe(1 + 2);
    expect(estimateTokens('\ud83d')).toBe(1);
    expect(estimateTokens('\ude00x')).toBe(1 + 1);
    // The same as counting by code point.
    const text = 'Grüße, 世界 😀 and more ASCII text'.repeat(3);
    const byCodePoint = [...text].reduce((n, ch) => n + (ch.charCodeAt(0) < 128 ? 0 : 1), 0) + Math.ceil([...text].filter((ch) => ch.charCodeAt(0) < 128).length / 4);
    expect(estimateTokens(text)).toBe(byCodePoint);
  });

  it('adds the per-message overhead', () => {
    expect(estimateMessagesTokens([{ content: 'abcd' }, { content: '' }])).toBe(1 + 2 * MESSAGE_OVERHEAD_TOKENS);
  });
});

describe('context budget rule', () => {
  const messages = [{ content: 'x'.repeat(400) }, { content: 'y'.repeat(400) }]; // 100 + 4 tokens each

  it('sums the summary and the messages and compares strictly', () => {
    expect(contextUsage({ messages }, 208)).toEqual({ tokens: 208, budget: 208, exceeds: false });
    expect(contextExceedsBudget({ messages }, 207)).toBe(true);
    expect(contextUsage({ summary: 'z'.repeat(40), messages }, 1000).tokens).toBe(208 + 10 + MESSAGE_OVERHEAD_TOKENS);
    expect(contextUsage({ summary: null, messages: [] }, 10).exceeds).toBe(false);
  });
});

describe('daily budgets', () => {
  const names = { tokens: 'roomDailyTokens', cost: 'roomDailyCostUsd' } as const;
  const prices = { inputPerMillion: 1, outputPerMillion: 2 };
  const state = (spentTokens = 0, reservedTokens = 0, spentCostUsd = 0, reservedCostUsd = 0) => ({ spentTokens, reservedTokens, spentCostUsd, reservedCostUsd });

  it('grants what is left after the spend, the holds and the request, and says when the budget bound it', () => {
    expect(grantUnder(state(), {}, names, { inputTokens: 500, wanted: 1024, prices })).toEqual({ ok: true, outputTokens: 1024, boundBy: null });
    expect(grantUnder(state(300, 100), { tokens: 1000 }, names, { inputTokens: 500, wanted: 1024, prices })).toEqual({ ok: true, outputTokens: 100, boundBy: 'roomDailyTokens' });
    expect(grantUnder(state(300, 100), { tokens: 2000 }, names, { inputTokens: 500, wanted: 1024, prices })).toEqual({ ok: true, outputTokens: 1024, boundBy: null });
  });

  it('refuses a call when not one output token is left', () => {
    expect(grantUnder(state(500), { tokens: 1000 }, names, { inputTokens: 500, wanted: 10, prices })).toEqual({ ok: false, budget: 'roomDailyTokens' });
    expect(grantUnder(state(0, 0, 0.001), { costUsd: 0.001 }, names, { inputTokens: 1, wanted: 10, prices })).toEqual({ ok: false, budget: 'roomDailyCostUsd' });
  });

  it('turns a cost budget into output tokens at the model’s prices', () => {
    // $0.001 left, 100 input tokens cost $0.0001, output at $2 per million: 450 tokens.
    expect(grantUnder(state(0, 0, 0.0005, 0.0005), { costUsd: 0.002 }, names, { inputTokens: 100, wanted: 1024, prices })).toEqual({
      ok: true,
      outputTokens: 450,
      boundBy: 'roomDailyCostUsd',
    });
  });

  it('keys days in UTC and resets at the next UTC midnight', () => {
    expect(utcDay(new Date('2026-12-31T23:59:59.999Z'))).toBe('2026-12-31');
    expect(utcDay(new Date('2027-01-01T00:00:00.000Z'))).toBe('2027-01-01');
    expect(dayResetsAt('2026-12-31')).toBe('2027-01-01T00:00:00.000Z');
    expect(remainingOf(undefined, 10)).toBeNull();
    expect(remainingOf(5, 10)).toBe(0);
  });
});
