import { defineEntity, p } from '@mikro-orm/core';

export const BUDGET_SCOPES = ['room', 'user'] as const;
export type BudgetScope = (typeof BUDGET_SCOPES)[number];

/**
 * What one room or one user has spent on a UTC day, and what model calls in flight hold
 * (`reserved_*`): a call reserves before it starts and settles after it ends, each in one
 * statement on this row, so budgets hold across nodes (docs/decisions.md).
 */
export const BudgetLedgerSchema = defineEntity({
  name: 'BudgetLedger',
  tableName: 'budget_ledger',
  properties: {
    scope: p.enum(BUDGET_SCOPES).primary(),
    scopeId: p.uuid().primary(),
    /** `YYYY-MM-DD`, UTC. */
    day: p.string().length(10).primary(),
    spentTokens: p.bigint('number').defaultRaw(`'0'`),
    spentCostUsd: p.decimal('number').precision(18).scale(8).default(0),
    reservedTokens: p.bigint('number').defaultRaw(`'0'`),
    reservedCostUsd: p.decimal('number').precision(18).scale(8).default(0),
  },
});
export class BudgetLedger extends BudgetLedgerSchema.class {}
BudgetLedgerSchema.setClass(BudgetLedger);
