import type { AppConfig } from '../config/config';
import type { ErrorBody } from '../contract/dto';
import type { InFlightTurn, Usage } from '../contract/events';
import type { Message, MessageStatus } from '../db/entities';
import { newId } from '../db/entities/common';
import { presentMessage } from '../rooms/presenters';
import { manualPlan, noAgentNotice, roundtablePlan, type Plan } from '../domain/plan';
import { sumUsage } from '../llm/cost';
import type { ModelProvider } from '../llm/model-provider';
import type { ModelCallUsage } from '../llm/usage';
import type { Broadcaster } from '../events/broadcaster';
import { DeltaCoalescer } from './delta-coalescer';
import type { Logger } from '../shared/logger';
import type { ToolDeps } from '../tools/registry';
import { runAgent } from './agent-runner';
import { resolveManagerAlias } from './manager';
import { buildAgentMessages, type ConversationMessage, type SameTurnAnswer } from './prompt';
import { TurnEventStream } from './turn-events';
import { finalStatus, type StagedTurn, type SummaryResult } from './turn-outcome';
import type { TurnRef, TurnRepository } from './turn-repository';

export interface PlanRequest {
  roomId: string;
  managerModelAlias: string;
  agents: { key: string; name: string; rolePrompt: string; position: number }[];
  text: string;
  recent: ConversationMessage[];
  signal: AbortSignal;
}

export interface SummaryRequest {
  previous: string | null;
  messages: ConversationMessage[];
  modelAlias: string;
  signal: AbortSignal;
}


export interface TurnExecutorDeps {
  repo: TurnRepository;
  config: AppConfig;
  broadcaster: Broadcaster;
  models: ModelProvider;
  toolDeps: (roomId: string) => ToolDeps;
  /** Orchestrator mode: the manager model's plan (with its fallback) and the usage of that call. */
  planOrchestrator: (req: PlanRequest) => Promise<{ plan: Plan; usage: ModelCallUsage[] }>;
  /** Runs when the session's context exceeds its budget. */
  summarize: (req: SummaryRequest) => Promise<SummaryResult>;
  /** True when the session's context (summary + messages) exceeds the budget. */
  overBudget: (summary: string | null, messages: ConversationMessage[], budget: number) => boolean;
  logger: Logger;
}

interface ActiveTurn {
  roomId: string;
  sessionId: string;
  abort: AbortController;
  agentKey: string | null;
  /** Text of the agent:delta frames already sent, per agent, and the seq of the last one. */
  partial: Record<string, string>;
  partialSeq: number;
}

/** Files of the room listed in the prompt of an agent that may read them. */
const MAX_LISTED_FILES = 20;
const ZERO_USAGE: Usage = { inputTokens: 0, outputTokens: 0, costUsd: 0 };
const toUsage = (calls: readonly ModelCallUsage[]): Usage => {
  if (!calls.length) return ZERO_USAGE;
  const s = sumUsage(calls);
  return { inputTokens: s.inputTokens, outputTokens: s.outputTokens, costUsd: s.costUsd };
};

/**
 * Runs one claimed turn: plan, agents in order with live streams, summary when over budget, then
 * ONE commit of everything the turn produced, and only then `turn:end`.
 */
export class TurnExecutor {
  private readonly active = new Map<string, ActiveTurn>();

  constructor(private readonly d: TurnExecutorDeps) {}

  /** Aborts a turn running on this node; false when it is not here. */
  cancel(turnId: string): boolean {
    const t = this.active.get(turnId);
    if (!t) return false;
    t.abort.abort();
    return true;
  }

  /** Turns running on this node in a room, with the text streamed so far. */
  inFlight(roomId: string): InFlightTurn[] {
    return [...this.active.entries()]
      .filter(([, t]) => t.roomId === roomId)
      .map(([turnId, t]) => ({
        turnId,
        sessionId: t.sessionId,
        status: 'running',
        agentKey: t.agentKey,
        partialText: { ...t.partial },
        seq: t.partialSeq,
      }));
  }

  /** Cancels everything running here (shutdown); each turn still commits and ends. */
  cancelAll(): void {
    for (const t of this.active.values()) t.abort.abort();
  }

  async announceInterrupted(t: TurnRef): Promise<void> {
    await this.d.broadcaster.publish(t.roomId, 'turn:end', {
      turnId: t.turnId,
      sessionId: t.sessionId,
      status: 'interrupted',
      error: { code: 'TURN_INTERRUPTED', message: 'The server running this turn stopped' },
      usage: ZERO_USAGE,
    });
  }

  /** Runs a claimed turn; whatever happens, it ends with one `turn:end`. */
  async run(claimed: TurnRef): Promise<void> {
    let loaded = false;
    try {
      await this.execute(claimed, () => (loaded = true));
    } catch (err) {
      if (loaded) throw err;
      // Loading its context failed (database down, room deleted): the turn must not stay running.
      this.d.logger.error('turn could not start', { turnId: claimed.turnId, err });
      await this.failTurn(claimed, { code: 'TURN_FAILED', message: 'The turn could not start' }, ZERO_USAGE);
    }
  }

  /** Marks a turn failed with one statement and ends it: the path when its own commit cannot happen. */
  private async failTurn(t: TurnRef, error: ErrorBody, usage: Usage): Promise<void> {
    await this.d.repo.markTurnFailed(t.turnId).catch(() => undefined);
    await this.d.broadcaster
      .publish(t.roomId, 'turn:end', { turnId: t.turnId, sessionId: t.sessionId, status: 'failed', error, usage })
      .catch(() => undefined);
  }

  private async execute(claimed: TurnRef, onLoaded: () => void): Promise<void> {
    const { config, logger } = this.d;
    const { turn, room, session, agents, text, recent, files } = await this.d.repo.loadContext(claimed, {
      recentMessages: config.limits.recentMessages,
      listedFiles: MAX_LISTED_FILES,
    });
    onLoaded();

    const abort = new AbortController();
    const active: ActiveTurn = { roomId: room.id, sessionId: session.id, abort, agentKey: null, partial: {}, partialSeq: 0 };
    this.active.set(turn.id, active);
    const events = new TurnEventStream(this.d.broadcaster, room.id, logger);
    const coalescer = new DeltaCoalescer<string>(config.limits.deltaFlushMs, (agentKey, delta) =>
      events.emit('agent:delta', { turnId: turn.id, agentKey, text: delta }, (sent) => {
        // What a joining client's snapshot shows: exactly the frames sent up to `partialSeq`.
        active.partial[agentKey] = (active.partial[agentKey] ?? '') + delta;
        active.partialSeq = sent.seq;
      }),
    );

    const staged: StagedTurn = { messages: [], usage: [], tools: [] };
    let plan: Plan = { agentKeys: [], fallback: false };
    let turnError: ErrorBody | undefined;
    let summary: SummaryResult | undefined;
    let systemNotice: string | undefined;

    try {
      events.emit('turn:started', { turnId: turn.id, sessionId: session.id, mode: turn.mode });
      const planAgents = agents.map((a) => ({ key: a.key, name: a.name, rolePrompt: a.rolePrompt, position: a.position }));
      if (turn.mode === 'manual') plan = manualPlan(text, planAgents);
      else if (turn.mode === 'roundtable') plan = roundtablePlan(planAgents);
      else if (planAgents.length === 0) plan = { agentKeys: [], fallback: false, reason: 'the room has no agents' };
      else {
        const managerModelAlias = resolveManagerAlias(room.settings ?? {}, config.defaultModelAlias, this.d.models);
        const r = await this.d.planOrchestrator({ roomId: room.id, managerModelAlias, agents: planAgents, text, recent, signal: abort.signal });
        plan = r.plan;
        for (const u of r.usage) staged.usage.push({ ...u, agentKey: null });
      }
      events.emit('turn:plan', { turnId: turn.id, agentKeys: plan.agentKeys, fallback: plan.fallback, ...(plan.reason ? { reason: plan.reason } : {}) });

      if (plan.agentKeys.length === 0) systemNotice = noAgentNotice(planAgents);

      const sameTurn: SameTurnAnswer[] = [];
      for (const key of plan.agentKeys) {
        if (abort.signal.aborted) break;
        const agent = agents.find((a) => a.key === key);
        if (!agent) continue;
        active.agentKey = key;
        events.emit('agent:start', { turnId: turn.id, agentKey: key, modelAlias: agent.modelAlias });
        const messageId = newId();
        const result = await runAgent({
          agent: { key, modelAlias: agent.modelAlias, toolPermissions: agent.toolPermissions },
          messages: buildAgentMessages({
            agent: { key, name: agent.name, rolePrompt: agent.rolePrompt },
            team: planAgents,
            summary: session.summary,
            recent,
            sameTurn,
            // Only an agent that may read files is told which exist.
            ...(agent.toolPermissions.includes('read_file') && files.length ? { files } : {}),
            maxContextTokens: config.limits.contextBudgetTokens,
          }),
          models: this.d.models,
          toolDeps: this.d.toolDeps(room.id),
          limits: {
            maxOutputTokens: config.limits.maxOutputTokens,
            modelTimeoutMs: config.limits.modelTimeoutMs,
            recursionLimit: config.limits.turnRecursionLimit,
          },
          signal: abort.signal,
          callbacks: {
            onDelta: (delta) => coalescer.push(key, delta),
            onToolStart: (e) => {
              coalescer.flush(key);
              events.emit('tool:start', { turnId: turn.id, agentKey: key, ...e });
            },
            onToolProgress: (e) => events.emit('tool:progress', { turnId: turn.id, agentKey: key, ...e }),
            onToolEnd: (e) => {
              staged.tools.push({ ...e, agentKey: key });
              events.emit('tool:end', {
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
        coalescer.flush(key);
        for (const u of result.usage) staged.usage.push({ ...u, agentKey: key });
        const status: MessageStatus = result.cancelled ? 'cancelled' : result.error ? 'failed' : 'complete';
        staged.messages.push({
          id: messageId,
          agentKey: key,
          content: result.text,
          status,
          modelAlias: agent.modelAlias,
          ...(result.error ? { error: `${result.error.code}: ${result.error.message}` } : {}),
        });
        sameTurn.push({ agentKey: key, agentName: agent.name, content: result.text, status });
        events.emit('agent:end', {
          turnId: turn.id,
          agentKey: key,
          messageId,
          status,
          finishReason: result.finishReason,
          usage: toUsage(result.usage),
          ...(result.error ? { error: { code: result.error.code, message: result.error.message } } : {}),
        });
      }
      active.agentKey = null;

      if (!abort.signal.aborted && plan.agentKeys.length > 0) {
        const context = [...recent, ...sameTurn.map((a) => ({ authorType: 'agent' as const, authorName: a.agentName, agentKey: a.agentKey, content: a.content }))];
        const budget = Number(room.settings?.contextBudgetTokens) || config.limits.contextBudgetTokens;
        if (this.d.overBudget(session.summary ?? null, context, budget)) {
          events.emit('summary:started', { turnId: turn.id, sessionId: session.id });
          summary = await this.d.summarize({ previous: session.summary ?? null, messages: context, modelAlias: config.defaultModelAlias, signal: abort.signal });
          for (const u of summary.usage) staged.usage.push({ ...u, agentKey: null });
          events.emit('summary:updated', { turnId: turn.id, sessionId: session.id, summary: summary.summary, usedFallback: summary.usedFallback });
        }
      }
    } catch (err) {
      logger.error('turn failed', { turnId: turn.id, err });
      turnError = { code: 'TURN_FAILED', message: 'The turn failed unexpectedly' };
    } finally {
      coalescer.flushAll();
    }

    const status = finalStatus(abort.signal.aborted, turnError, staged.messages, plan);
    if (!turnError && status === 'failed') {
      turnError = { code: 'ALL_AGENTS_FAILED', message: 'Every agent of the turn failed' };
    }
    let created: Message[];
    try {
      created = await this.d.repo.commitTurn(turn.id, { room, session, requestedBy: turn.requestedBy, plan, status, turnError, staged, summary, systemNotice });
    } catch (err) {
      logger.error('turn commit failed', { turnId: turn.id, err });
      await events.drain();
      this.active.delete(turn.id);
      await this.failTurn(claimed, { code: 'COMMIT_FAILED', message: 'The turn could not be saved' }, toUsage(staged.usage));
      return;
    }
    // Agent messages reached the room as streams; a system notice is announced as a new message.
    for (const m of created) if (m.authorType === 'system') events.emit('message:created', { message: presentMessage(m) });
    await events.drain();
    this.active.delete(turn.id);
    await this.d.broadcaster.publish(room.id, 'turn:end', {
      turnId: turn.id,
      sessionId: session.id,
      status,
      ...(turnError ? { error: turnError } : {}),
      usage: toUsage(staged.usage),
    });
  }
}
