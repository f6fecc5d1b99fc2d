import { randomUUID } from 'node:crypto';
import type { AppConfig } from '../config/config';
import type { Orm } from '../db/orm';
import type { ModelProvider } from '../llm/model-provider';
import type { Broadcaster } from '../events/broadcaster';
import type { NodeBus } from '../events/node-bus';
import type { Logger } from '../shared/logger';
import { noMetrics, type Metrics } from '../shared/metrics';
import { systemClock, type Clock } from '../shared/clock';
import { BudgetRepository } from './budget-repository';
import type { ToolDeps } from '../tools/registry';
import { ActiveTurns } from './active-turns';
import { CrossNodeTurns } from './cross-node-turns';
import { MessageActions } from './message-actions';
import { MessageRepository } from './message-repository';
import { OutboxRepository } from './outbox-repository';
import { PlanStep } from './plan-step';
import { runSummaryPipeline } from './summary';
import { TurnAnnouncer } from './turn-announcer';
import { MAX_LISTED_FILES, TurnExecutor } from './turn-executor';
import { TurnIntake } from './turn-intake';
import { TurnRepository } from './turn-repository';
import { TurnScheduler, type SchedulerProbes } from './turn-scheduler';
import { TurnService } from './turn-service';
import { TurnSettlement } from './turn-settlement';
import { ToolApprovals } from './tool-approvals';
import { TurnSweep } from './turn-sweep';
import { TurnsInHand } from './turns-in-hand';

export interface TurnEngine {
  intake: TurnIntake;
  turns: TurnService;
  approvals: ToolApprovals;
  /** Regenerate, edit, delete. */
  messages: MessageActions;
  executor: TurnExecutor;
  scheduler: TurnScheduler;
  close(): Promise<void>;
}

/**
 * Assembles the turn engine: intake, scheduler, executor, and the service transports call. It
 * publishes through the room event pipeline and reaches other nodes through the node bus.
 */
export async function createTurnEngine(d: {
  orm: Orm;
  config: AppConfig;
  broadcaster: Broadcaster;
  bus: NodeBus;
  models: ModelProvider;
  toolDeps: (roomId: string) => ToolDeps;
  logger: Logger;
  /** Turn, model and tool counts for operators; the queue depth is read from the database. */
  metrics?: Metrics;
  /** Tests only: act at exact points of the scheduler's loop. */
  probes?: SchedulerProbes;
  /** The time daily budgets are counted in (tests move it); the system clock by default. */
  clock?: Clock;
}): Promise<TurnEngine> {
  const { config, models, logger } = d;
  const metrics = d.metrics ?? noMetrics;
  const limits = config.limits;
  // This process, as the turns it is responsible for name it (`runner_id`).
  const nodeId = randomUUID();
  const repo = new TurnRepository(d.orm, nodeId, {
    recentMessages: limits.recentMessages,
    listedFiles: MAX_LISTED_FILES,
    attachmentChars: limits.attachmentContextChars,
  });
  metrics.gauge('queueDepth', () => repo.countAllQueued());
  const outbox = new OutboxRepository(d.orm, nodeId);
  const budgets = new BudgetRepository(d.orm);
  const clock = d.clock ?? systemClock;
  const active = new ActiveTurns();
  const inHand = new TurnsInHand();
  // Aborted at shutdown, once running turns had their grace period: writes that must be stored
  // stop retrying there, and what they leave behind is a sweep's.
  const stopping = new AbortController();
  const announcer = new TurnAnnouncer({ outbox, broadcaster: d.broadcaster, inHand, stopping: stopping.signal, staleAfterMs: config.turns.staleAfterMs, logger });

  const approvals = new ToolApprovals({ orm: d.orm, bus: d.bus, broadcaster: d.broadcaster, timeoutMs: config.tools.approvalTimeoutMs, logger });
  const executor = new TurnExecutor({
    repo,
    approvals,
    active,
    inHand,
    settlement: new TurnSettlement({ repo, stopping: stopping.signal, logger }),
    announcer,
    stopping: stopping.signal,
    config,
    broadcaster: d.broadcaster,
    models,
    toolDeps: d.toolDeps,
    logger: d.logger,
    metrics,
    planner: new PlanStep({
      models,
      defaultModelAlias: config.defaultModelAlias,
      limits: { managerMaxTokens: limits.managerMaxTokens, modelTimeoutMs: limits.modelTimeoutMs },
    }),
    summarize: (req) =>
      runSummaryPipeline({
        models,
        alias: req.modelAlias,
        previousSummary: req.previous,
        messages: req.messages.map((m) => ({ author: m.authorName, content: m.content })),
        limits: { summaryMaxTokens: limits.summaryMaxTokens, modelTimeoutMs: limits.modelTimeoutMs },
        signal: req.signal,
      }),
    budgets,
    clock,
  });

  const kick = (sessionId: string) => scheduler.kick(sessionId);
  const sweep = new TurnSweep({ outbox, announcer, inHand, staleAfterMs: config.turns.staleAfterMs, kick, logger });
  const scheduler = new TurnScheduler(
    repo,
    { heartbeatMs: config.turns.heartbeatMs, sweepMs: config.turns.sweepMs, singleNode: !config.redisUrl },
    {
      run: (t) => executor.run(t),
      // Running turns carry their checkpoint of what they streamed.
      heartbeat: () => outbox.heartbeat(inHand.ids().map((id) => ({ id, partial: active.checkpoint(id) }))),
      sweep: (all) => sweep.sweep(all),
    },
    logger,
    d.probes,
  );

  const intake = new TurnIntake(repo, { queuedTurnsPerSession: limits.queuedTurnsPerSession, queuedTurnsPerSender: limits.queuedTurnsPerSender });
  const cluster = new CrossNodeTurns(d.bus, active, logger);
  const turns = new TurnService({ repo, intake, announcer, inHand, cluster, kick, logger, budgets, clock, budgetDefaults: config.budgets });
  const messages = new MessageActions({ repo, messages: new MessageRepository(d.orm, nodeId), intake, announcer, inHand, broadcaster: d.broadcaster, kick, logger, messageChars: limits.messageChars });

  await scheduler.start();
  return {
    intake,
    turns,
    approvals,
    messages,
    executor,
    scheduler,
    async close() {
      // Calls waiting for a tool approval stop waiting: their turns go back to the queue, to run
      // again on a node that is up, with the approval still pending.
      approvals.shelve();
      active.shelveAwaiting();
      // Turns running here may finish within the grace period; then they are cancelled (and
      // still commit and end).
      await scheduler.close(limits.shutdownGraceMs, () => {
        active.cancelAll();
        stopping.abort();
      });
      stopping.abort();
    },
  };
}
