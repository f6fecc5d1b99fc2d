/**
 * Prices are per million tokens, per alias (src/config/models.ts). Costs are rounded to the
 * 8 decimals the usage table stores, so sums in SQL and in memory agree.
 */

export interface ModelPrices {
  inputPerMillion: number;
  outputPerMillion: number;
}

export interface TokenCounts {
  inputTokens: number;
  outputTokens: number;
}

const round8 = (n: number) => Math.round(n * 1e8) / 1e8;

export function costUsd(tokens: TokenCounts, prices: ModelPrices): number {
  return round8((tokens.inputTokens * prices.inputPerMillion + tokens.outputTokens * prices.outputPerMillion) / 1e6);
}

/** Totals of a list of calls, in the contract's `Usage` shape (agent:end, turn:end). */
export function sumUsage(calls: readonly (TokenCounts & { costUsd: number })[]): TokenCounts & { costUsd: number } {
  return calls.reduce(
    (acc, c) => ({
      inputTokens: acc.inputTokens + c.inputTokens,
      outputTokens: acc.outputTokens + c.outputTokens,
      costUsd: round8(acc.costUsd + c.costUsd),
    }),
    { inputTokens: 0, outputTokens: 0, costUsd: 0 },
  );
}
