import { describe, expect, it } from 'vitest';
import { contextExceedsBudget, contextUsage, estimateMessagesTokens, estimateTokens, MESSAGE_OVERHEAD_TOKENS } from '../../../src/domain/budget';

describe('token estimates', () => {
  it('counts about four ASCII characters per token and one per CJK character', () => {
    expect(estimateTokens('')).toBe(0);
    expect(estimateTokens('abcd')).toBe(1);
    expect(estimateTokens('abcde')).toBe(2);
    expect(estimateTokens('你好世界')).toBe(4);
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
