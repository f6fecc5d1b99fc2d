import { HumanMessage } from '@langchain/core/messages';
import { describe, expect, it } from 'vitest';
import { costUsd, sumUsage } from '../../../src/llm/cost';
import { usageOfCall } from '../../../src/llm/usage';

const description = { alias: 'gpt', kind: 'openai' as const, model: 'gpt-x', prices: { inputPerMillion: 0.15, outputPerMillion: 0.6 } };

describe('cost', () => {
  it('prices input and output per million tokens, rounded to 8 decimals', () => {
    expect(costUsd({ inputTokens: 1_000_000, outputTokens: 1_000_000 }, description.prices)).toBe(0.75);
    expect(costUsd({ inputTokens: 1, outputTokens: 1 }, description.prices)).toBe(0.00000075);
    expect(costUsd({ inputTokens: 1, outputTokens: 0 }, { inputPerMillion: 0.123456789, outputPerMillion: 0 })).toBe(0.00000012);
  });

  it('sums every call', () => {
    const calls = [
      { inputTokens: 10, outputTokens: 2, costUsd: 0.1 },
      { inputTokens: 5, outputTokens: 7, costUsd: 0.2 },
    ];
    expect(sumUsage(calls)).toEqual({ inputTokens: 15, outputTokens: 9, costUsd: 0.3 });
    expect(sumUsage([])).toEqual({ inputTokens: 0, outputTokens: 0, costUsd: 0 });
  });
});

describe('usageOfCall', () => {
  it('uses reported tokens when the server gave them', () => {
    const u = usageOfCall({
      purpose: 'agent',
      description,
      reported: { input_tokens: 100, output_tokens: 50 },
      prompt: [],
      outputText: 'ignored',
      latencyMs: 12.6,
    });
    expect(u).toEqual({
      purpose: 'agent',
      modelAlias: 'gpt',
      model: 'gpt-x',
      inputTokens: 100,
      outputTokens: 50,
      costUsd: 0.000045,
      latencyMs: 13,
      estimated: false,
      status: 'completed',
      charged: true,
    });
  });

  it('estimates from the prompt and the output when nothing was reported', () => {
    const u = usageOfCall({ purpose: 'manager', description, reported: undefined, prompt: [new HumanMessage('abcdefgh')], outputText: 'abcd', latencyMs: 1 });
    // The whole request: 8 characters, 4 of framing per message, 3 priming the reply.
    expect(u).toMatchObject({ purpose: 'manager', inputTokens: 2 + 4 + 3, outputTokens: 1, estimated: true, charged: false });
  });

  it('bills nothing for a request the provider refused (no stream, no usage)', () => {
    const u = usageOfCall({ purpose: 'agent', description, reported: undefined, prompt: [new HumanMessage('abcdefgh')], outputText: '', latencyMs: 1, outcome: 'failed', refused: true });
    expect(u).toMatchObject({ inputTokens: 0, outputTokens: 0, costUsd: 0, estimated: false, status: 'failed', charged: true });
  });

  it('still estimates a call whose stream was cut after it started', () => {
    const u = usageOfCall({ purpose: 'agent', description, reported: undefined, prompt: [new HumanMessage('abcdefgh')], outputText: 'abcd', latencyMs: 1, outcome: 'failed', refused: false });
    expect(u).toMatchObject({ inputTokens: 9, outputTokens: 1, estimated: true, status: 'failed' });
  });
});
