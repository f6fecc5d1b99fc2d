import type { TurnStatus } from '../contract/dto';
import type { InFlightTurn } from '../contract/events';
import type { LlmUsageEvent } from '../db/entities';
import { newId } from '../db/entities/common';
import { can, requireCan } from '../domain/permissions';
import { AppError } from '../shared/errors';
import type { Logger } from '../shared/logger';
import type { CrossNodeTurns } from './cross-node-turns';
import type { TurnAnnouncer } from './turn-announcer';
import type { SendInput, TurnIntake } from './turn-intake';
import type { ClientResult } from '../contract/client-events';
import type { TurnRepository } from './turn-repository';
import type { TurnsInHand } from './turns-in-hand';
import type { BudgetDefaults } from '../config/config';
import type { BudgetStatusDto } from '../contract/dto';
import { utcDay } from '../domain/budget';
import type { Clock } from '../shared/clock';
import type { BudgetRepository } from './budget-repository';
import { budgetStatus, roomLimits } from './turn-budget';
import type { GroupedUsageRow } from './turn-repository';
import { usageWindow, type UsageQuery } from './usage-query';

const round = (n: number) => Math.round(n * 1e8) / 1e8;

/** What transports call: send a message (which starts a turn), cancel, turns in flight, audit, usage. */
export interface TurnServiceDeps {
  repo: TurnRepository;
  intake: TurnIntake;
  announcer: TurnAnnouncer;
  inHand: TurnsInHand;
  cluster: CrossNodeTurns;
  /** Asks the scheduler to run the session's next queued turn. */
  kick: (sessionId: string) => void;
  logger: Logger;
  budgets: BudgetRepository;
  clock: Clock;
  budgetDefaults: BudgetDefaults;
}

/** Usage sums in one shape; cost summed in units of 1e-8 USD, so sums equal their rows exactly. */
interface UsageSums {
  calls: number;
  failedCalls: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}
const ZERO_SUMS: UsageSums = { calls: 0, failedCalls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };
const addSums = (a: UsageSums, b: UsageSums): UsageSums => ({
  calls: a.calls + b.calls,
  failedCalls: a.failedCalls + b.failedCalls,
  inputTokens: a.inputTokens + b.inputTokens,
  outputTokens: a.outputTokens + b.outputTokens,
  costUsd: (Math.round(a.costUsd * 1e8) + Math.round(b.costUsd * 1e8)) / 1e8,
});

export class TurnService {
  private readonly repo: TurnRepository;

  constructor(private readonly d: TurnServiceDeps) {
    this.repo = d.repo;
  }

  /**
   * A message from a member: durable and idempotent before the caller acks (a repeated
   * `clientMsgId` returns the first message and turn), announced to the room, then scheduled.
   * A repeated send whose first ack was lost before its message went out announces it, and
   * kicks its session either way, so its turn starts at once.
   */
  async send(userId: string, input: SendInput): Promise<ClientResult<'message:send'>> {
    const turnId = newId();
    // Held from before the commit until it is announced: no sweep takes it over meanwhile.
    const release = this.d.inHand.hold(turnId);
    try {
      const accepted = await this.d.intake.accept(userId, input, turnId);
      if (!accepted.duplicate) await this.announce(accepted.turnId, () => this.d.announcer.announceQueued(accepted.turnId, accepted.queued));
      else if (!accepted.announced) await this.announce(accepted.turnId, () => this.d.announcer.takeOver(accepted.turnId, false));
      if (accepted.interrupt) await this.interruptAhead(input.sessionId, accepted.turnId);
      this.d.kick(input.sessionId);
      return { messageId: accepted.message.id, turnId: accepted.turnId, duplicate: accepted.duplicate };
    } finally {
      release();
    }
  }

  /**
   * busyPolicy `interrupt`: the new message runs next. The session's running turn is cancelled as
   * `turn:cancel` cancels it (what streamed is kept), and turns still waiting ahead of the new one
   * are cancelled before they start. A waiting turn claimed meanwhile is running: it is aborted.
   */
  private async interruptAhead(sessionId: string, turnId: string): Promise<void> {
    for (const t of await this.repo.turnsAhead(sessionId, turnId)) {
      if (t.status === 'queued' && (await this.cancelQueued(t.id))) continue;
      this.d.cluster.abort(t.id);
    }
  }

  /** queued → cancelled and announced; false when a node claimed the turn first (it runs). */
  private async cancelQueued(turnId: string): Promise<boolean> {
    const release = this.d.inHand.hold(turnId);
    try {
      if (!(await this.repo.cancelIfQueued(turnId))) return false;
      await this.announce(turnId, () => this.d.announcer.announceEnd(turnId));
      return true;
    } finally {
      release();
    }
  }

  /** An announcement that fails is the outbox sweep's to send; the commit it announces stands. */
  private async announce(turnId: string, fn: () => Promise<unknown>): Promise<void> {
    await fn().catch((err) => this.d.logger.warn('announcing a turn failed; the sweep will', { turnId, err }));
  }

  /** Turns running in a room on any node, with the text streamed so far (for snapshots). */
  inFlight(roomId: string): Promise<InFlightTurn[]> {
    return this.d.cluster.inFlight(roomId);
  }

  /** Cancels a queued turn (it never runs) or a running one (it stops, keeping what streamed), on any node. */
  async cancel(userId: string, roomId: string, turnId: string): Promise<{ status: TurnStatus; cancelRequested: boolean }> {
    const { role } = await this.repo.requireMember(roomId, userId);
    const turn = await this.repo.turnOfRoom(roomId, turnId);
    if (!turn) throw new AppError('TURN_NOT_FOUND', 'Turn not found');
    // Its sender may cancel a turn (unless now a viewer); owners and admins cancel anyone's.
    if (turn.requestedBy.id === userId) {
      if (!can(role, 'messages.send') && !can(role, 'turns.cancel_any')) {
        throw new AppError('FORBIDDEN', `A ${role} may not cancel turns in this room`, { role, action: 'turns.cancel_any' });
      }
    } else requireCan(role, 'turns.cancel_any');
    let status = turn.status;
    if (status === 'queued') {
      // A waiting turn is withdrawn: it never runs. Only wins if no node claimed it meanwhile;
      // otherwise it is running and is aborted below.
      if (await this.cancelQueued(turnId)) return { status: 'cancelled', cancelRequested: true };
      status = (await this.repo.statusOf(turnId)) ?? status;
    }
    if (status === 'running') {
      this.d.cluster.abort(turnId);
      return { status: 'running', cancelRequested: true };
    }
    return { status, cancelRequested: false };
  }

  /** The audit of one turn: plan, fallback, each agent with its alias, status, timing, usage, tools, errors. */
  async audit(userId: string, sessionId: string, turnId: string) {
    await this.repo.requireSessionMember(sessionId, userId);
    const records = await this.repo.auditRecords(sessionId, turnId);
    if (!records) throw new AppError('TURN_NOT_FOUND', 'Turn not found');
    const { turn, messages, trigger, usage, tools } = records;
    const usageOf = (rows: LlmUsageEvent[]) => ({
      inputTokens: rows.reduce((s, u) => s + u.inputTokens, 0),
      outputTokens: rows.reduce((s, u) => s + u.outputTokens, 0),
      costUsd: round(rows.reduce((s, u) => s + Number(u.costUsd), 0)),
      calls: rows.length,
    });
    return {
      turn: {
        id: turn.id,
        sessionId,
        mode: turn.mode,
        status: turn.status,
        plan: turn.plan?.agentKeys ?? [],
        fallback: turn.plan?.fallback ?? false,
        planReason: turn.plan?.reason ?? null,
        error: turn.error ?? null,
        triggerMessageId: trigger?.id ?? null,
        queuedAt: turn.queuedAt.toISOString(),
        startedAt: turn.startedAt?.toISOString() ?? null,
        endedAt: turn.endedAt?.toISOString() ?? null,
        durationMs: turn.startedAt && turn.endedAt ? turn.endedAt.getTime() - turn.startedAt.getTime() : null,
        summaryTriggered: turn.summaryTriggered,
        /** A regeneration: the answer it makes a new version of. */
        regenerates: turn.regenerateMessageId ? { messageId: turn.regenerateMessageId, agentKey: turn.regenerateAgentKey } : null,
        summaryFallback: turn.summaryFallback ?? [],
      },
      /** The message the turn answers, with the texts it had before each edit (none once deleted). */
      trigger: trigger
        ? {
            messageId: trigger.id,
            content: trigger.deletedAt ? '' : trigger.content,
            editedAt: trigger.editedAt?.toISOString() ?? null,
            deletedAt: trigger.deletedAt?.toISOString() ?? null,
            edits: (trigger.edits ?? []).map((e) => ({ content: e.content, replacedAt: e.replacedAt })),
            attachments: trigger.deletedAt ? [] : (trigger.attachments ?? []),
          }
        : null,
      agents: messages
        .filter((m) => m.authorType === 'agent')
        .map((m) => ({
          agentKey: m.agentKey,
          modelAlias: m.modelAlias,
          messageId: m.id,
          version: m.version,
          versionOf: m.versionOf?.id ?? null,
          status: m.status,
          error: m.error ?? null,
          usage: usageOf(usage.filter((u) => u.purpose === 'agent' && u.agentKey === m.agentKey)),
          toolCalls: tools.filter((t) => t.agentKey === m.agentKey).length,
        })),
      usage: usage.map((u) => ({
        purpose: u.purpose,
        agentKey: u.agentKey ?? null,
        modelAlias: u.modelAlias,
        model: u.model,
        inputTokens: u.inputTokens,
        outputTokens: u.outputTokens,
        costUsd: round(Number(u.costUsd)),
        latencyMs: u.latencyMs ?? null,
        status: u.status,
        estimated: u.estimated,
        infrastructure: !u.charged,
      })),
      toolCalls: tools.map((t) => ({
        toolCallId: t.toolCallId,
        agentKey: t.agentKey,
        toolName: t.toolName,
        status: t.status,
        latencyMs: t.latencyMs ?? null,
        error: t.error ?? null,
        /** Decision, reason, who (user id) and when, for a call that went through an approval. */
        approval: t.approval ?? null,
      })),
      totals: usageOf(usage),
      charged: usageOf(usage.filter((u) => u.charged)),
      infrastructure: usageOf(usage.filter((u) => !u.charged)),
    };
  }

  /** A room's spend of the day and what is left of its budgets (the join snapshot): the ledger is read unless `kept` stands. */
  async roomBudget(roomId: string, knownSettings?: ReturnType<TurnRepository['roomSettings']>, kept?: BudgetStatusDto | null): Promise<BudgetStatusDto> {
    const day = utcDay(this.d.clock.now());
    // Read earlier while no daily limit applied (a join keeps it until a room event): of today, it stands.
    if (kept && kept.day === day && kept.tokens.limit === null && kept.costUsd.limit === null) return kept;
    const [settings, state] = await Promise.all([
      // The room's settings when the caller has them (a join keeps them until `room:updated`).
      knownSettings ?? this.repo.roomSettings(roomId),
      this.d.budgets.state({ scope: 'room', scopeId: roomId }, day),
    ]);
    return budgetStatus(day, roomLimits(settings, this.d.budgetDefaults), state);
  }

  /** A room's model usage in a window, grouped; manager and summary calls marked as infrastructure. */
  async roomUsage(userId: string, roomId: string, q: UsageQuery) {
    await this.repo.requireMember(roomId, userId);
    return this.usageAnswer({ roomId }, q);
  }

  /** The caller's own model usage across rooms (what their turns spent), grouped. */
  async userUsage(userId: string, q: UsageQuery) {
    return this.usageAnswer({ userId }, q);
  }

  private async usageAnswer(scope: { roomId: string } | { userId: string }, q: UsageQuery) {
    const window = usageWindow(q, this.d.clock.now());
    if ('problem' in window) throw new AppError('VALIDATION_FAILED', `${window.path}: ${window.problem}`, [{ path: [window.path], message: window.problem }]);
    const rows = await this.repo.groupedUsage(scope, window, q.groupBy);
    const items = rows.map((r: GroupedUsageRow) => ({
      key: r.key,
      infrastructure: !r.charged,
      calls: Number(r.calls),
      failedCalls: Number(r.failed),
      inputTokens: Number(r.input),
      outputTokens: Number(r.output),
      costUsd: round(Number(r.cost)),
    }));
    const sum = (list: UsageSums[]) => list.reduce(addSums, ZERO_SUMS);
    const pick = ({ calls, failedCalls, inputTokens, outputTokens, costUsd }: UsageSums): UsageSums => ({ calls, failedCalls, inputTokens, outputTokens, costUsd });
    return {
      from: window.from.toISOString(),
      to: window.to.toISOString(),
      groupBy: q.groupBy,
      items,
      totals: pick(sum(items)),
      charged: pick(sum(items.filter((i) => !i.infrastructure))),
      infrastructure: pick(sum(items.filter((i) => i.infrastructure))),
    };
  }
}
