import type { AppConfig } from '../config/config';
import type { ErrorBody } from '../contract/dto';
import type { Usage } from '../contract/events';
import type { MessageStatus } from '../db/entities';
import { newId } from '../db/entities/common';
import { isTransientDbError } from '../db/transient-error';
import { noAgentNotice, type Plan } from '../domain/plan';
import type { Broadcaster } from '../events/broadcaster';
import { sumUsage } from '../llm/cost';
import type { ModelProvider } from '../llm/model-provider';
import type { ModelCallUsage } from '../llm/usage';
import type { Logger } from '../shared/logger';
import type { Metrics } from '../shared/metrics';
import { retry } from '../shared/retry';
import type { Clock } from '../shared/clock';
import type { BudgetRepository } from './budget-repository';
import { roomLimits, TurnBudget, userLimits } from './turn-budget';
import type { ToolDeps } from '../tools/registry';
import type { ToolGuard } from '../tools/tool-events';
import type { ActiveTurn, ActiveTurns } from './active-turns';
import { runAgent } from './agent-runner';
import { requestTokens, tokenCounterFor, toolSchemasText, type TokenCounter } from '../llm/token-count';
import { buildTools } from '../tools/registry';
import { BoundedCache } from '../shared/bounded-cache';
import { isMcpToolName } from '../domain/tool-names';
import type { ManagerAgent } from './manager';
import type { PlanStep } from './plan-step';
import { buildAgentMessages, type ConversationMessage, type SameTurnAnswer } from './prompt';
import type { SummaryResult } from './summary';
import type { KnownEnd, TurnAnnouncer } from './turn-announcer';
import type { ContextAgent, TurnContext } from './turn-context';
import { finalStatus, type StagedTurn } from './turn-outcome';
import type { TurnRef, TurnRepository } from './turn-repository';
import type { Settled, TurnSettlement } from './turn-settlement';
import { TurnStream } from './turn-stream';
import type { TurnsInHand } from './turns-in-hand';
import { ApprovalShelved, type ToolApprovals } from './tool-approvals';

export interface SummaryRequest {
  previous: string | null;
  messages: ConversationMessage[];
  modelAlias: string;
  signal: AbortSignal;
}

export interface TurnExecutorDeps {
  repo: TurnRepository;
  /** Tool calls under `ask` wait here for a member's answer. */
  approvals: ToolApprovals;
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
  metrics: Metrics;
}

/** Files of the room listed in the prompt of an agent that may read them. */
export const MAX_LISTED_FILES = 20;
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
        // Read with the claim, unless the turn was handed on otherwise.
        ctx = claimed.context ?? (await retry(() => this.d.repo.loadContext(claimed), { retryable: isTransientDbError, signal: this.d.stopping }));
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
  private async conclude(t: TurnRef, settled: Settled, fallback: ErrorBody, usage: Usage, infrastructureUsage: Usage = ZERO_USAGE, known?: KnownEnd): Promise<void> {
    const { logger } = this.d;
    if (settled === 'stored') {
      await this.d.announcer.announceEnd(t.turnId, known).catch((err) => logger.warn('announcing a turn end failed; the sweep will', { turnId: t.turnId, err }));
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

    const startedAt = performance.now();
    const stream = new TurnStream(this.d.broadcaster, room.id, turn.id, config.limits.deltaFlushMs, logger, config.limits.agentEndHoldMs);
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

    this.d.metrics.turnStarted();
    logger.info('turn started', { turnId: turn.id, roomId: room.id, sessionId: session.id, mode: turn.mode });
    try {
      stream.emit('turn:started', { turnId: turn.id, sessionId: session.id, mode: turn.mode });
      const team = ctx.agents.map((a) => ({ key: a.key, name: a.name, rolePrompt: a.rolePrompt, position: a.position }));
      if (ctx.regenerate) {
        // A regeneration answers with the one agent again; nothing to plan.
        plan = { agentKeys: [ctx.regenerate.agentKey], fallback: false, reason: 'regenerate' };
      } else {
        const planned = await this.d.planner.plan({ mode: turn.mode, settings: room.settings, team, text: ctx.text, recent: ctx.recent, signal });
        plan = planned.plan;
        for (const u of planned.usage) staged.usage.push({ ...u, agentKey: null, at: this.d.clock.now() });
        this.countModelCalls(planned.usage);
        if (planned.notice) systemNotice = planned.notice;
      }
      stream.emit('turn:plan', { turnId: turn.id, agentKeys: plan.agentKeys, fallback: plan.fallback, ...(plan.reason ? { reason: plan.reason } : {}) });

      // Tags that named no agent are said (manual mode); an empty plan says which agents exist.
      if (!systemNotice && plan.agentKeys.length === 0) systemNotice = noAgentNotice(team);

      // A regenerated answer sees the answers given before it in its turn, as their latest versions say them.
      const sameTurn: SameTurnAnswer[] = [...(ctx.regenerate?.sameTurn ?? [])];
      for (const key of plan.agentKeys) {
        if (signal.aborted) break;
        const agent = ctx.agents.find((a) => a.key === key);
        if (!agent) continue;
        active.agentKey = key;
        sameTurn.push(await this.runAgentStep(ctx, agent, team, sameTurn, stream, active, staged, budget));
      }
      active.agentKey = null;

      if (!signal.aborted && plan.agentKeys.length > 0 && !ctx.regenerate) {
        const context = [...ctx.recent, ...sameTurn.map((a) => ({ authorType: 'agent' as const, authorName: a.agentName, agentKey: a.agentKey, content: a.content }))];
        // Over budget when the next request of some agent, counted whole as it would be sent, is.
        const next = Math.max(...ctx.agents.map((a) => this.requestEstimate(ctx, a, team, context)));
        if (next > this.contextBudget(ctx)) {
          stream.emit('summary:started', { turnId: turn.id, sessionId: session.id });
          summary = await this.d.summarize({ previous: session.summary ?? null, messages: context, modelAlias: config.defaultModelAlias, signal });
          for (const u of summary.usage) staged.usage.push({ ...u, agentKey: null, at: this.d.clock.now() });
          this.countModelCalls(summary.usage);
          // One line per fallen-back summary: which stage and why, never the model's answer.
          if (summary.fallback.length) {
            logger.warn('summary fell back', { turnId: turn.id, stages: summary.fallback.map((f) => `${f.stage}: ${f.reason}`).join('; ') });
          }
          stream.emit('summary:updated', {
            turnId: turn.id,
            sessionId: session.id,
            summary: summary.summary,
            usedFallback: summary.data.usedFallback,
            fields: { topics: summary.data.topics, decisions: summary.data.decisions, openQuestions: summary.data.openQuestions },
          });
        }
      }
    } catch (err) {
      logger.error('turn failed', { turnId: turn.id, err });
      turnError = { code: 'TURN_FAILED', message: 'The turn failed unexpectedly' };
    } finally {
      stream.flushAll();
    }

    await Promise.allSettled([...active.approvalWaits]);
    if (active.shelved) {
      // The node shuts down while a tool call waits for approval: no commit, no turn:end; the turn
      // goes back to the queue and runs again on a node that is up (or here after a restart).
      stream.sendAgentEnd();
      await stream.drain();
      this.d.active.end(turn.id);
      const requeued = await this.d.repo.requeue(turn.id).catch((err) => {
        logger.warn('putting a turn waiting for approval back in the queue failed; the sweep will', { turnId: turn.id, err });
        return false;
      });
      logger.info('turn waiting for a tool approval left for another run', { turnId: turn.id, requeued });
      return;
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
    const { settled, notices, roomLedger } = await this.d.settlement.commit(turn.id, { spend: budget.commitSpend(), plan, status, turnError, staged, summary, systemNotice });
    // The last agent's end, held while the commit ran: it leaves with budget:updated and turn:end.
    stream.sendAgentEnd();
    // A turn no limit applied to added its spend to the ledger in its commit: the room's spend now.
    for (const r of roomLedger ?? []) budget.committed(r.day, r.state);
    await stream.drain();
    // Off the registry before turn:end, so a snapshot taken after it no longer shows the turn.
    this.d.active.end(turn.id);
    const usage = toUsage(charged(staged.usage));
    const seconds = (performance.now() - startedAt) / 1000;
    this.d.metrics.turnEnded(status, seconds);
    logger.info('turn ended', {
      turnId: turn.id,
      roomId: room.id,
      sessionId: session.id,
      status,
      agents: plan.agentKeys,
      durationMs: Math.round(seconds * 1000),
      inputTokens: usage.inputTokens,
      outputTokens: usage.outputTokens,
      costUsd: usage.costUsd,
      ...(turnError ? { code: turnError.code } : {}),
      ...(settled === 'stored' ? {} : { settled }),
    });
    const infrastructureUsage = toUsage(infrastructure(staged.usage));
    const known = notices && { roomId: room.id, sessionId: session.id, status, ...(turnError ? { error: turnError } : {}), usage, infrastructureUsage, notices };
    await this.conclude(claimed, settled, { code: 'COMMIT_FAILED', message: 'The turn could not be saved' }, usage, infrastructureUsage, known);
  }

  /** Model latency by alias and purpose; the last call of a failed agent is the one that failed. */
  private countModelCalls(calls: readonly ModelCallUsage[], failed = false): void {
    calls.forEach((c, i) => this.d.metrics.modelCall(c.modelAlias, c.purpose, failed && i === calls.length - 1 ? 'error' : 'ok', c.latencyMs / 1000));
  }

  /** The room's context budget (its setting, else the server's). */
  private contextBudget(ctx: TurnContext): number {
    return ctx.room.settings?.contextBudgetTokens ?? this.d.config.limits.contextBudgetTokens;
  }

  /** How an agent's model counts, and the tool definitions its requests carry. */
  private requestShape(agent: ContextAgent, roomId: string): { counter: TokenCounter; toolSchemas: string[] } {
    const model = this.d.models.has(agent.modelAlias) ? this.d.models.describe(agent.modelAlias).model : '';
    const schemas = () => {
      const tools = buildTools(agent.toolPermissions, this.d.toolDeps(roomId));
      return tools.length ? toolSchemasText(tools) : [];
    };
    // Built-in tools' definitions depend on their names alone; MCP tools come and go with their server.
    const toolSchemas = agent.toolPermissions.some(isMcpToolName)
      ? schemas()
      : this.toolSchemaCache.getOrCreate([...agent.toolPermissions].sort().join(','), schemas);
    return { counter: tokenCounterFor(model), toolSchemas };
  }

  /** Tool definitions as sent, per set of built-in tools: converting their schemas costs more than a lookup. */
  private readonly toolSchemaCache = new BoundedCache<string, string[]>(64);

  /** The tokens of the request an agent would send next, untrimmed: what the context budget is about. */
  private requestEstimate(ctx: TurnContext, agent: ContextAgent, team: readonly ManagerAgent[], recent: ConversationMessage[]): number {
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
    agent: ContextAgent,
    team: readonly ManagerAgent[],
    sameTurn: readonly SameTurnAnswer[],
    stream: TurnStream,
    active: ActiveTurn,
    staged: StagedTurn,
    budget: TurnBudget,
  ): Promise<SameTurnAnswer> {
    const { config } = this.d;
    const { turn, room, session, files, attachments } = ctx;
    // Attached files cut short by the budget stay readable with read_file, whatever the agent's permissions.
    const cutShort = attachments.filter((a) => a.truncated).map((a) => a.id);
    const key = agent.key;
    stream.emit('agent:start', { turnId: turn.id, agentKey: key, modelAlias: agent.modelAlias });
    const messageId = newId();
    active.speakers.push({ messageId, agentKey: key, modelAlias: agent.modelAlias });
    // The agent's approval policies: `auto` runs, `deny` refuses at once, `ask` waits for a member.
    const policies = agent.toolApprovals ?? {};
    const guard: ToolGuard = async (call, signal) => {
      const policy = policies[call.toolName] ?? 'auto';
      if (policy === 'auto') return null;
      if (policy === 'deny') return { decision: 'deny', reason: 'policy', by: null, decidedAt: new Date().toISOString() };
      stream.flush(key);
      active.awaitingApproval++;
      const decision = this.d.approvals.decide(
        { roomId: room.id, sessionId: session.id, turnId: turn.id, agentKey: key, ...call },
        (event, payload) => stream.emit(event, payload),
        signal,
      );
      // A cancel ends the graph at once; the approval's closing (and its event) is awaited before the commit.
      active.approvalWaits.add(decision);
      try {
        return await decision;
      } catch (err) {
        if (err instanceof ApprovalShelved) {
          active.shelved = true;
          active.abort.abort();
        }
        throw err;
      } finally {
        active.awaitingApproval--;
        active.approvalWaits.delete(decision);
      }
    };
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
        attachments,
        maxContextTokens: this.contextBudget(ctx),
        maxSystemChars: config.limits.systemPromptChars,
        ...this.requestShape(agent, room.id),
      }),
      models: this.d.models,
      toolDeps: { ...this.d.toolDeps(room.id), guard, ...(cutShort.length ? { attachedFileIds: cutShort } : {}) },
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
          this.d.metrics.toolCall(e.toolName, e.status, e.latencyMs / 1000);
          if (e.status === 'failed') this.d.logger.warn('tool failed', { turnId: turn.id, agentKey: key, tool: e.toolName, toolCallId: e.toolCallId, latencyMs: e.latencyMs, error: e.error });
          stream.emit('tool:end', {
            turnId: turn.id,
            agentKey: key,
            toolCallId: e.toolCallId,
            toolName: e.toolName,
            status: e.status,
            latencyMs: e.latencyMs,
            ...(e.error ? { error: e.error } : {}),
            ...(e.approval ? { approval: e.approval } : {}),
          });
        },
      },
    });
    // Shelved: the turn runs again later; this run announces nothing more.
    if (active.shelved) {
      stream.flush(key);
      return { agentKey: key, agentName: agent.name, content: result.text, status: 'cancelled' };
    }
    // The provider's own words (`detail`) go to the log only, which redacts secrets; members get our reason.
    // One line per failed agent: its code, alias and how long its model calls took.
    if (result.error) {
      const latencyMs = result.usage.reduce((sum, u) => sum + u.latencyMs, 0);
      this.d.logger.warn('agent failed', { turnId: turn.id, roomId: room.id, agentKey: key, modelAlias: agent.modelAlias, latencyMs, ...result.error });
    }
    this.countModelCalls(result.usage, Boolean(result.error) && !result.cancelled);
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
      ...(ctx.regenerate ? { versionOf: ctx.regenerate.messageId } : {}),
    });
    // Its last text and agent:end go out with the turn's next event (for the last agent: with turn:end).
    stream.endAgent(key, {
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
