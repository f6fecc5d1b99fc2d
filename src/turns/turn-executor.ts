import type { AppConfig } from '../config/config';
import type { ErrorBody } from '../contract/dto';
import type { Usage } from '../contract/events';
import type { Agent, MessageStatus } from '../db/entities';
import { newId } from '../db/entities/common';
import { isTransientDbError } from '../db/transient-error';
import { noAgentNotice, type Plan } from '../domain/plan';
import type { Broadcaster } from '../events/broadcaster';
import { sumUsage } from '../llm/cost';
import type { ModelProvider } from '../llm/model-provider';
import type { ModelCallUsage } from '../llm/usage';
import type { Logger } from '../shared/logger';
import { retry } from '../shared/retry';
import type { Clock } from '../shared/clock';
import type { BudgetRepository } from './budget-repository';
import { roomLimits, TurnBudget, userLimits } from './turn-budget';
import type { ToolDeps } from '../tools/registry';
import type { ActiveTurn, ActiveTurns } from './active-turns';
import { runAgent } from './agent-runner';
import { requestTokens, tokenCounterFor, toolSchemasText, type TokenCounter } from '../llm/token-count';
import { buildTools } from '../tools/registry';
import type { ManagerAgent } from './manager';
import type { PlanStep } from './plan-step';
import { buildAgentMessages, type ConversationMessage, type SameTurnAnswer } from './prompt';
import type { SummaryResult } from './summary';
import type { TurnAnnouncer } from './turn-announcer';
import type { TurnContext } from './turn-context';
import { finalStatus, type StagedTurn } from './turn-outcome';
import type { TurnRef, TurnRepository } from './turn-repository';
import type { Settled, TurnSettlement } from './turn-settlement';
import { TurnStream } from './turn-stream';
import type { TurnsInHand } from './turns-in-hand';

export interface SummaryRequest {
  previous: string | null;
  messages: ConversationMessage[];
  modelAlias: string;
  signal: AbortSignal;
}

export interface TurnExecutorDeps {
  repo: TurnRepository;
  /** The turns running on this node. */
  active: ActiveTurns;
  /** The turns this node works on; the heartbeat keeps them from being taken over. */
  inHand: TurnsInHand;
  /** Stores the turn's outcome whatever the connection does. */
  settlement: TurnSettlement;
  /** Announces what was stored. */
  announcer: TurnAnnouncer;
  /** Aborted at shutdown: reads stop retrying there. */
  stopping: AbortSignal;
  config: AppConfig;
  broadcaster: Broadcaster;
  models: ModelProvider;
  toolDeps: (roomId: string) => ToolDeps;
  planner: PlanStep;
  /** Runs when the session's context exceeds its budget. */
  summarize: (req: SummaryRequest) => Promise<SummaryResult>;
  /** The daily budget ledger of rooms and users. */
  budgets: BudgetRepository;
  /** The time budgets are counted in. */
  clock: Clock;
  logger: Logger;
}

/** Files of the room listed in the prompt of an agent that may read them. */
const MAX_LISTED_FILES = 20;
const ZERO_USAGE: Usage = { inputTokens: 0, outputTokens: 0, costUsd: 0 };
const COULD_NOT_START: ErrorBody = { code: 'TURN_FAILED', message: 'The turn could not start' };
const charged = (calls: readonly ModelCallUsage[]) => calls.filter((c) => c.charged);
const infrastructure = (calls: readonly ModelCallUsage[]) => calls.filter((c) => !c.charged);
const toUsage = (calls: readonly ModelCallUsage[]): Usage => {
  if (!calls.length) return ZERO_USAGE;
  const s = sumUsage(calls);
  return { inputTokens: s.inputTokens, outputTokens: s.outputTokens, costUsd: s.costUsd };
};

/**
 * Runs one claimed turn: plan, agents in order with live streams, summary when over budget, then
 * ONE commit of everything the turn produced, and only then `turn:end`, read from what the
 * database holds.
 */
export class TurnExecutor {
  constructor(private readonly d: TurnExecutorDeps) {}

  /** Runs a claimed turn; whatever happens, it ends with one `turn:end` (here or by a sweep). */
  async run(claimed: TurnRef): Promise<void> {
    const release = this.d.inHand.hold(claimed.turnId);
    try {
      let ctx: TurnContext;
      try {
        ctx = await retry(() => this.d.repo.loadContext(claimed, { recentMessages: this.d.config.limits.recentMessages, listedFiles: MAX_LISTED_FILES }), {
          retryable: isTransientDbError,
          signal: this.d.stopping,
        });
      } catch (err) {
        // Its room or session is gone, or shutdown came while the database was unreachable.
        this.d.logger.error('turn could not start', { turnId: claimed.turnId, err });
        const settled = isTransientDbError(err) ? 'abandoned' : await this.d.settlement.fail(claimed.turnId, COULD_NOT_START);
        await this.conclude(claimed, settled, COULD_NOT_START, ZERO_USAGE);
        return;
      }
      await this.execute(claimed, ctx);
    } finally {
      release();
    }
  }

  /**
   * Announces what the database holds once the turn's outcome is settled. Only a turn whose row
   * is gone is announced from memory: there is nothing stored to announce from, or to mark.
   */
  private async conclude(t: TurnRef, settled: Settled, fallback: ErrorBody, usage: Usage, infrastructureUsage: Usage = ZERO_USAGE): Promise<void> {
    const { logger } = this.d;
    if (settled === 'stored') {
      await this.d.announcer.announceEnd(t.turnId).catch((err) => logger.warn('announcing a turn end failed; the sweep will', { turnId: t.turnId, err }));
    } else if (settled === 'gone') {
      await this.d.broadcaster
        .publish(t.roomId, 'turn:end', { turnId: t.turnId, sessionId: t.sessionId, status: 'failed', error: fallback, usage, infrastructureUsage })
        .catch((err) => logger.warn('announcing the end of a deleted turn failed', { turnId: t.turnId, err }));
    } else if (settled === 'taken') {
      logger.warn('turn was interrupted by a sweep before its commit; the sweep announces it', { turnId: t.turnId });
    } else {
      logger.warn('turn left running at shutdown; a sweep will interrupt it', { turnId: t.turnId });
    }
  }

  private async execute(claimed: TurnRef, ctx: TurnContext): Promise<void> {
    const { config, logger } = this.d;
    const { turn, room, session } = ctx;

    const stream = new TurnStream(this.d.broadcaster, room.id, turn.id, config.limits.deltaFlushMs, logger);
    const active = this.d.active.start(turn.id, { roomId: room.id, sessionId: session.id, stream });
    const { signal } = active.abort;

    const staged: StagedTurn = { messages: [], usage: [], tools: [] };
    const budget = new TurnBudget({
      repo: this.d.budgets,
      clock: this.d.clock,
      roomId: room.id,
      userId: turn.requestedBy.id,
      roomLimits: roomLimits(room.settings, config.budgets),
      userLimits: userLimits(config.budgets),
      agentTurnMaxOutputTokens: config.budgets.agentTurnMaxOutputTokens,
      // After the text streamed so far: the spend it reports covers that text.
      onRoomSpend: (status) => {
        stream.flushAll();
        stream.emit('budget:updated', { turnId: turn.id, budget: status });
      },
      logger,
    });
    let plan: Plan = { agentKeys: [], fallback: false };
    let turnError: ErrorBody | undefined;
    let summary: SummaryResult | undefined;
    let systemNotice: string | undefined;

    try {
      stream.emit('turn:started', { turnId: turn.id, sessionId: session.id, mode: turn.mode });
      const team = ctx.agents.map((a) => ({ key: a.key, name: a.name, rolePrompt: a.rolePrompt, position: a.position }));
      const planned = await this.d.planner.plan({ mode: turn.mode, settings: room.settings, team, text: ctx.text, recent: ctx.recent, signal });
      plan = planned.plan;
      for (const u of planned.usage) staged.usage.push({ ...u, agentKey: null, at: this.d.clock.now() });
      stream.emit('turn:plan', { turnId: turn.id, agentKeys: plan.agentKeys, fallback: plan.fallback, ...(plan.reason ? { reason: plan.reason } : {}) });

      if (plan.agentKeys.length === 0) systemNotice = noAgentNotice(team);

      const sameTurn: SameTurnAnswer[] = [];
      for (const key of plan.agentKeys) {
        if (signal.aborted) break;
        const agent = ctx.agents.find((a) => a.key === key);
        if (!agent) continue;
        active.agentKey = key;
        sameTurn.push(await this.runAgentStep(ctx, agent, team, sameTurn, stream, active, staged, budget));
      }
      active.agentKey = null;

      if (!signal.aborted && plan.agentKeys.length > 0) {
        const context = [...ctx.recent, ...sameTurn.map((a) => ({ authorType: 'agent' as const, authorName: a.agentName, agentKey: a.agentKey, content: a.content }))];
        // Over budget when the next request of some agent, counted whole as it would be sent, is.
        const next = Math.max(...ctx.agents.map((a) => this.requestEstimate(ctx, a, team, context)));
        if (next > this.contextBudget(ctx)) {
          stream.emit('summary:started', { turnId: turn.id, sessionId: session.id });
          summary = await this.d.summarize({ previous: session.summary ?? null, messages: context, modelAlias: config.defaultModelAlias, signal });
          for (const u of summary.usage) staged.usage.push({ ...u, agentKey: null, at: this.d.clock.now() });
          // One line per fallen-back summary: which stage and why, never the model's answer.
          if (summary.fallback.length) {
            logger.warn('summary fell back', { turnId: turn.id, stages: summary.fallback.map((f) => `${f.stage}: ${f.reason}`).join('; ') });
          }
          stream.emit('summary:updated', { turnId: turn.id, sessionId: session.id, summary: summary.summary, usedFallback: summary.data.usedFallback });
        }
      }
    } catch (err) {
      logger.error('turn failed', { turnId: turn.id, err });
      turnError = { code: 'TURN_FAILED', message: 'The turn failed unexpectedly' };
    } finally {
      stream.flushAll();
    }

    const status = finalStatus(signal.aborted, turnError, staged.messages, plan);
    if (!turnError && status === 'failed') {
      // Agents a budget refused all: the turn says which budget, rather than that they failed.
      const refused = staged.messages.every((m) => m.error?.startsWith('BUDGET_EXCEEDED: '));
      turnError =
        refused && staged.messages.length
          ? { code: 'BUDGET_EXCEEDED', message: staged.messages[0]!.error!.slice('BUDGET_EXCEEDED: '.length) }
          : { code: 'ALL_AGENTS_FAILED', message: 'Every agent of the turn failed' };
    }
    const settled = await this.d.settlement.commit(turn.id, { room, session, requestedBy: turn.requestedBy, plan, status, turnError, staged, summary, systemNotice });
    await stream.drain();
    // Off the registry before turn:end, so a snapshot taken after it no longer shows the turn.
    this.d.active.end(turn.id);
    await this.conclude(
      claimed,
      settled,
      { code: 'COMMIT_FAILED', message: 'The turn could not be saved' },
      toUsage(charged(staged.usage)),
      toUsage(infrastructure(staged.usage)),
    );
  }

  /** The room's context budget (its setting, else the server's). */
  private contextBudget(ctx: TurnContext): number {
    return ctx.room.settings?.contextBudgetTokens ?? this.d.config.limits.contextBudgetTokens;
  }

  /** How an agent's model counts, and the tool definitions its requests carry. */
  private requestShape(agent: Agent, roomId: string): { counter: TokenCounter; toolSchemas: string[] } {
    const model = this.d.models.has(agent.modelAlias) ? this.d.models.describe(agent.modelAlias).model : '';
    const tools = buildTools(agent.toolPermissions, this.d.toolDeps(roomId));
    return { counter: tokenCounterFor(model), toolSchemas: tools.length ? toolSchemasText(tools) : [] };
  }

  /** The tokens of the request an agent would send next, untrimmed: what the context budget is about. */
  private requestEstimate(ctx: TurnContext, agent: Agent, team: readonly ManagerAgent[], recent: ConversationMessage[]): number {
    const { counter, toolSchemas } = this.requestShape(agent, ctx.room.id);
    const messages = buildAgentMessages({
      agent: { key: agent.key, name: agent.name, rolePrompt: agent.rolePrompt },
      team,
      summary: ctx.session.summary,
      recent,
      ...(agent.toolPermissions.includes('read_file') && ctx.files.length ? { files: ctx.files } : {}),
      maxSystemChars: this.d.config.limits.systemPromptChars,
    });
    return requestTokens(counter, messages, toolSchemas);
  }

  /** One agent of the turn: its live stream, and its answer, usage and tool calls staged for the commit. */
  private async runAgentStep(
    ctx: TurnContext,
    agent: Agent,
    team: readonly ManagerAgent[],
    sameTurn: readonly SameTurnAnswer[],
    stream: TurnStream,
    active: ActiveTurn,
    staged: StagedTurn,
    budget: TurnBudget,
  ): Promise<SameTurnAnswer> {
    const { config } = this.d;
    const { turn, room, session, files } = ctx;
    const key = agent.key;
    stream.emit('agent:start', { turnId: turn.id, agentKey: key, modelAlias: agent.modelAlias });
    const messageId = newId();
    active.speakers.push({ messageId, agentKey: key, modelAlias: agent.modelAlias });
    const result = await runAgent({
      agent: { key, modelAlias: agent.modelAlias, toolPermissions: agent.toolPermissions },
      messages: buildAgentMessages({
        agent: { key, name: agent.name, rolePrompt: agent.rolePrompt },
        team,
        summary: session.summary,
        recent: ctx.recent,
        sameTurn,
        // Only an agent that may read files is told which exist.
        ...(agent.toolPermissions.includes('read_file') && files.length ? { files } : {}),
        maxContextTokens: this.contextBudget(ctx),
        maxSystemChars: config.limits.systemPromptChars,
        ...this.requestShape(agent, room.id),
      }),
      models: this.d.models,
      toolDeps: this.d.toolDeps(room.id),
      limits: {
        maxOutputTokens: config.limits.maxOutputTokens,
        modelTimeoutMs: config.limits.modelTimeoutMs,
        recursionLimit: config.limits.turnRecursionLimit,
      },
      signal: active.abort.signal,
      budget: budget.forAgent(),
      callbacks: {
        onDelta: (delta) => stream.delta(key, delta),
        onToolStart: (e) => {
          stream.flush(key);
          stream.emit('tool:start', { turnId: turn.id, agentKey: key, ...e });
        },
        onToolProgress: (e) => stream.emit('tool:progress', { turnId: turn.id, agentKey: key, ...e }),
        onToolEnd: (e) => {
          staged.tools.push({ ...e, agentKey: key });
          stream.emit('tool:end', {
            turnId: turn.id,
            agentKey: key,
            toolCallId: e.toolCallId,
            toolName: e.toolName,
            status: e.status,
            latencyMs: e.latencyMs,
            ...(e.error ? { error: e.error } : {}),
          });
        },
      },
    });
    stream.flush(key);
    // The provider's own words (`detail`) go to the log only, which redacts secrets; members get our reason.
    if (result.error) this.d.logger.warn('agent failed', { turnId: turn.id, agentKey: key, ...result.error });
    for (const u of result.usage) staged.usage.push({ ...u, agentKey: key, at: this.d.clock.now() });
    // A budget that stopped the stream keeps its text: the answer is partial, not failed.
    const stoppedWithText = result.error?.code === 'BUDGET_EXCEEDED' && result.text.trim() !== '';
    const status: MessageStatus = result.cancelled ? 'cancelled' : stoppedWithText ? 'partial' : result.error ? 'failed' : 'complete';
    staged.messages.push({
      id: messageId,
      agentKey: key,
      content: result.text,
      status,
      modelAlias: agent.modelAlias,
      ...(result.error ? { error: `${result.error.code}: ${result.error.message}` } : {}),
    });
    stream.emit('agent:end', {
      turnId: turn.id,
      agentKey: key,
      messageId,
      status,
      finishReason: result.finishReason,
      usage: toUsage(result.usage),
      ...(result.error
        ? { error: { code: result.error.code, message: result.error.message, ...('details' in result.error ? { details: result.error.details } : {}) } }
        : {}),
    });
    return { agentKey: key, agentName: agent.name, content: result.text, status };
  }
}
