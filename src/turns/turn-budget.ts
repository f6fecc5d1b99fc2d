import type { BudgetDefaults } from '../config/config';
import type { BudgetStatusDto } from '../contract/dto';
import type { RoomSettings } from '../db/entities';
import { BudgetExceededError, dayResetsAt, remainingOf, utcDay, type BudgetName, type CallPrices, type DailyLimits, type LedgerState } from '../domain/budget';
import type { ModelCallUsage } from '../llm/usage';
import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import type { BudgetRepository, Held, LedgerKey, LedgerSpend, LimitedRow } from './budget-repository';

/** What a model call was granted before it started. */
export interface CallHold {
  /** Output tokens it may produce. */
  outputTokens: number;
  /** The budget that set `outputTokens` (a stream reaching it is stopped), null when none did. */
  boundBy: BudgetName | null;
  /** When `boundBy` resets; null for the per-turn budget. */
  resetsAt: string | null;
  day: string;
  held?: Held;
}

/** The budget check of one agent's model calls (src/turns/agent-runner.ts). */
export interface CallBudget {
  /** Before a call: what it may produce. Throws BudgetExceededError when a budget leaves it nothing. */
  reserve(call: { inputTokens: number; wanted: number; prices: CallPrices }): Promise<CallHold>;
  /** After it (or when it was never made): what it really spent; releases its hold. */
  settle(hold: CallHold | undefined, usage: ModelCallUsage | undefined): Promise<void>;
}

/** A room's limits: its settings, else the server defaults. */
export function roomLimits(settings: RoomSettings | null | undefined, defaults: BudgetDefaults): DailyLimits {
  return {
    tokens: settings?.budget?.dailyTokens ?? defaults.roomDailyTokens,
    costUsd: settings?.budget?.dailyCostUsd ?? defaults.roomDailyCostUsd,
  };
}

export const userLimits = (defaults: BudgetDefaults): DailyLimits => ({ tokens: defaults.userDailyTokens, costUsd: defaults.userDailyCostUsd });

const round8 = (n: number) => Math.round(n * 1e8) / 1e8;

/** A room's spend of the day and what is left of its budgets (snapshot, `budget:updated`). */
export function budgetStatus(day: string, limits: DailyLimits, s: LedgerState): BudgetStatusDto {
  return {
    day,
    resetsAt: dayResetsAt(day),
    tokens: {
      spent: s.spentTokens,
      reserved: s.reservedTokens,
      limit: limits.tokens ?? null,
      remaining: remainingOf(limits.tokens, s.spentTokens + s.reservedTokens),
    },
    costUsd: {
      spent: round8(s.spentCostUsd),
      reserved: round8(s.reservedCostUsd),
      limit: limits.costUsd ?? null,
      remaining: limits.costUsd === undefined ? null : round8(Math.max(0, limits.costUsd - s.spentCostUsd - s.reservedCostUsd)),
    },
  };
}

export interface TurnBudgetInput {
  repo: BudgetRepository;
  clock: Clock;
  roomId: string;
  userId: string;
  roomLimits: DailyLimits;
  userLimits: DailyLimits;
  agentTurnMaxOutputTokens?: number;
  /** Called with the room's row after each charged call settles. */
  onRoomSpend?(status: BudgetStatusDto): void;
  logger: Logger;
}

const limited = (l: DailyLimits) => l.tokens !== undefined || l.costUsd !== undefined;

/**
 * The budgets of one turn: the room's and the requesting user's daily ledgers, and each agent's
 * output tokens in the turn. Only agents' calls go through it: the manager and the summary are
 * infrastructure, recorded but never charged.
 */
export class TurnBudget {
  /**
   * No daily limit applies to this turn (room or user): nothing is checked against the ledger, and
   * the calls' spend is added to it by the turn's commit, in the same statement as the usage rows.
   */
  private readonly atCommit: boolean;
  /** Spend the commit adds, by UTC day. */
  private readonly deferred = new Map<string, { tokens: number; costUsd: number }>();

  constructor(private readonly d: TurnBudgetInput) {
    this.atCommit = this.limitedRows().length === 0;
  }

  /** What the turn's commit adds to the room's and the user's rows (empty when the calls settled themselves). */
  commitSpend(): LedgerSpend[] {
    return [...this.deferred].flatMap(([day, s]) => this.keys().map((k) => ({ ...k, day, tokens: s.tokens, costUsd: s.costUsd })));
  }

  /** After the commit added `commitSpend()`: the room's row as it then stood. */
  committed(day: string, room: LedgerState): void {
    this.d.onRoomSpend?.(budgetStatus(day, this.d.roomLimits, room));
  }

  private keys(): LedgerKey[] {
    return [
      { scope: 'room', scopeId: this.d.roomId },
      { scope: 'user', scopeId: this.d.userId },
    ];
  }

  private limitedRows(): LimitedRow[] {
    const rows: LimitedRow[] = [];
    if (limited(this.d.roomLimits)) {
      rows.push({ scope: 'room', scopeId: this.d.roomId, limits: this.d.roomLimits, names: { tokens: 'roomDailyTokens', cost: 'roomDailyCostUsd' } });
    }
    if (limited(this.d.userLimits)) {
      rows.push({ scope: 'user', scopeId: this.d.userId, limits: this.d.userLimits, names: { tokens: 'userDailyTokens', cost: 'userDailyCostUsd' } });
    }
    return rows;
  }

  /** The budget of one agent's calls in this turn. */
  forAgent(): CallBudget {
    let outputUsed = 0;
    const cap = this.d.agentTurnMaxOutputTokens;
    return {
      reserve: async (call) => {
        const day = utcDay(this.d.clock.now());
        let wanted = call.wanted;
        let boundBy: BudgetName | null = null;
        if (cap !== undefined) {
          const left = cap - outputUsed;
          if (left < 1) throw new BudgetExceededError('agentTurnOutputTokens', null);
          if (left < wanted) [wanted, boundBy] = [left, 'agentTurnOutputTokens'];
        }
        const rows = this.limitedRows();
        if (!rows.length) return { outputTokens: wanted, boundBy, resetsAt: null, day };
        const { grant, held } = await this.d.repo.reserve(day, rows, { ...call, wanted });
        if (!grant.ok) throw new BudgetExceededError(grant.budget, dayResetsAt(day));
        if (grant.boundBy) boundBy = grant.boundBy;
        return { outputTokens: grant.outputTokens, boundBy, resetsAt: boundBy && boundBy !== 'agentTurnOutputTokens' ? dayResetsAt(day) : null, day, held };
      },
      settle: async (hold, usage) => {
        if (usage) outputUsed += usage.outputTokens;
        const spent = usage && usage.charged ? { tokens: usage.inputTokens + usage.outputTokens, costUsd: usage.costUsd } : { tokens: 0, costUsd: 0 };
        if (!hold?.held && spent.tokens === 0 && spent.costUsd === 0) return;
        const day = hold?.day ?? utcDay(this.d.clock.now());
        if (this.atCommit && !hold?.held) {
          const d = this.deferred.get(day) ?? { tokens: 0, costUsd: 0 };
          this.deferred.set(day, { tokens: d.tokens + spent.tokens, costUsd: d.costUsd + spent.costUsd });
          return;
        }
        try {
          const after = await this.d.repo.settle(day, this.keys(), spent, hold?.held);
          const room = after.get('room');
          if (room) this.d.onRoomSpend?.(budgetStatus(day, this.d.roomLimits, room));
        } catch (err) {
          // The call happened either way; a lost settlement leaves its hold until the day ends (the safe side).
          this.d.logger.warn('settling a model call against the budget ledger failed', { roomId: this.d.roomId, err });
        }
      },
    };
  }
}
