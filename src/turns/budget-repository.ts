import type { BudgetScope } from '../db/entities';
import type { Orm } from '../db/orm';
import { grantUnder, type BudgetName, type CallPrices, type DailyLimits, type Grant, type LedgerState } from '../domain/budget';

/** One budget row a call is checked against: a room or a user, with its limits for the day. */
export interface LedgerKey {
  scope: BudgetScope;
  scopeId: string;
}

export interface LimitedRow extends LedgerKey {
  limits: DailyLimits;
  names: { tokens: BudgetName; cost: BudgetName };
}

/** What a reservation holds on each row it was taken on, to be released by its settlement. */
export interface Held {
  day: string;
  rows: LedgerKey[];
  tokens: number;
  costUsd: number;
}

/** Spend a turn's commit adds to a row (turns no limit applies to settle their calls there). */
export interface LedgerSpend extends LedgerKey {
  day: string;
  tokens: number;
  costUsd: number;
}

export interface LedgerRow {
  scope: BudgetScope;
  spent_tokens: string | number;
  spent_cost_usd: string | number;
  reserved_tokens: string | number;
  reserved_cost_usd: string | number;
}

export const stateOf = (r: LedgerRow | undefined): LedgerState => ({
  spentTokens: Number(r?.spent_tokens ?? 0),
  spentCostUsd: Number(r?.spent_cost_usd ?? 0),
  reservedTokens: Number(r?.reserved_tokens ?? 0),
  reservedCostUsd: Number(r?.reserved_cost_usd ?? 0),
});

const round8 = (n: number) => Math.round(n * 1e8) / 1e8;
const keyList = (rows: readonly LedgerKey[], day: string) => ({
  sql: rows.map(() => '(?, ?::uuid, ?)').join(', '),
  params: rows.flatMap((r) => [r.scope, r.scopeId, day]),
});

/**
 * The daily budget ledger (`budget_ledger`). A call reserves before it starts and settles after it
 * ends: the reservation locks the call's rows (rooms before users, so two reservations never wait
 * on each other in a circle), grants what is left and holds it; the settlement adds what the call
 * really spent and releases the hold, in one statement. Every node goes through the same rows, so
 * budgets hold across nodes and concurrent turns.
 */
export class BudgetRepository {
  constructor(private readonly orm: Orm) {}

  /** Grants a call what every row leaves it, holding that on each; nothing is held when refused. */
  async reserve(day: string, rows: readonly LimitedRow[], call: { inputTokens: number; wanted: number; prices: CallPrices }): Promise<{ grant: Grant; held?: Held }> {
    const sorted = [...rows].sort((a, b) => (a.scope + a.scopeId).localeCompare(b.scope + b.scopeId));
    return this.orm.em.fork().transactional(async (tx) => {
      const conn = tx.getConnection();
      const trx = tx.getTransactionContext();
      const keys = keyList(sorted, day);
      await conn.execute(`insert into "budget_ledger" ("scope", "scope_id", "day") values ${keys.sql} on conflict do nothing`, keys.params, 'run', trx);
      const found = await conn.execute<(LedgerRow & { scope_id: string })[]>(
        `select "scope", "scope_id", "spent_tokens", "spent_cost_usd", "reserved_tokens", "reserved_cost_usd" from "budget_ledger"
          where ("scope", "scope_id", "day") in (${keys.sql}) order by "scope", "scope_id" for update`,
        keys.params,
        'all',
        trx,
      );
      let out = call.wanted;
      let boundBy: BudgetName | null = null;
      for (const row of sorted) {
        const state = stateOf(found.find((f) => f.scope === row.scope && f.scope_id === row.scopeId));
        const g = grantUnder(state, row.limits, row.names, { ...call, wanted: out });
        if (!g.ok) return { grant: g };
        if (g.boundBy) [out, boundBy] = [g.outputTokens, g.boundBy];
      }
      const grant: Grant = { ok: true, outputTokens: out, boundBy };
      const tokens = call.inputTokens + grant.outputTokens;
      const costUsd = round8((call.inputTokens * call.prices.inputPerMillion + grant.outputTokens * call.prices.outputPerMillion) / 1e6);
      await conn.execute(
        `update "budget_ledger" set "reserved_tokens" = "reserved_tokens" + ?, "reserved_cost_usd" = "reserved_cost_usd" + ?
          where ("scope", "scope_id", "day") in (${keys.sql})`,
        [tokens, costUsd, ...keys.params],
        'run',
        trx,
      );
      return { grant, held: { day, rows: sorted.map(({ scope, scopeId }) => ({ scope, scopeId })), tokens, costUsd } };
    });
  }

  /**
   * Adds a call's real spend to its rows and releases what it held, in one statement; returns the
   * rows as they stand after it.
   */
  async settle(day: string, rows: readonly LedgerKey[], spent: { tokens: number; costUsd: number }, held: Held | undefined): Promise<Map<BudgetScope, LedgerState>> {
    if (!rows.length) return new Map();
    const heldOn = (r: LedgerKey) => held !== undefined && held.rows.some((h) => h.scope === r.scope && h.scopeId === r.scopeId);
    // Values inserted as `reserved_*` are what to release: a fresh row holds nothing, so it never releases.
    const values = rows.map(() => '(?, ?::uuid, ?, ?::bigint, ?::numeric, ?::bigint, ?::numeric)').join(', ');
    const params = rows.flatMap((r) => [
      r.scope,
      r.scopeId,
      held?.day ?? day,
      spent.tokens,
      spent.costUsd,
      heldOn(r) ? held!.tokens : 0,
      heldOn(r) ? held!.costUsd : 0,
    ]);
    const after = await this.orm.em
      .fork()
      .getConnection()
      .execute<LedgerRow[]>(
        `insert into "budget_ledger" as b ("scope", "scope_id", "day", "spent_tokens", "spent_cost_usd", "reserved_tokens", "reserved_cost_usd")
         values ${values}
         on conflict ("scope", "scope_id", "day") do update set
           "spent_tokens" = b."spent_tokens" + excluded."spent_tokens",
           "spent_cost_usd" = b."spent_cost_usd" + excluded."spent_cost_usd",
           "reserved_tokens" = greatest(0, b."reserved_tokens" - excluded."reserved_tokens"),
           "reserved_cost_usd" = greatest(0, b."reserved_cost_usd" - excluded."reserved_cost_usd")
         returning "scope", "spent_tokens", "spent_cost_usd", "reserved_tokens", "reserved_cost_usd"`,
        params,
      );
    return new Map(after.map((r) => [r.scope, stateOf(r)]));
  }

  /** Releases a hold whose call was never made. */
  async release(held: Held): Promise<void> {
    await this.settle(held.day, held.rows, { tokens: 0, costUsd: 0 }, held);
  }

  /** One row as it stands (zeros when nothing was spent that day). */
  async state(key: LedgerKey, day: string): Promise<LedgerState> {
    const rows = await this.orm.em
      .fork()
      .getConnection()
      .execute<LedgerRow[]>(
        `select "scope", "spent_tokens", "spent_cost_usd", "reserved_tokens", "reserved_cost_usd" from "budget_ledger" where "scope" = ? and "scope_id" = ? and "day" = ?`,
        [key.scope, key.scopeId, day],
      );
    return stateOf(rows[0]);
  }
}
