import type { AppConfig } from '../config/config';
import type { Orm } from '../db/orm';
import { contextExceedsBudget } from '../domain/budget';
import type { ModelProvider } from '../llm/model-provider';
import type { Broadcaster } from '../events/broadcaster';
import type { NodeBus } from '../events/node-bus';
import type { Logger } from '../shared/logger';
import type { ToolDeps } from '../tools/registry';
import { ActiveTurns } from './active-turns';
import { CrossNodeTurns } from './cross-node-turns';
import { PlanStep } from './plan-step';
import { runSummaryPipeline } from './summary';
import { TurnExecutor } from './turn-executor';
import { TurnIntake } from './turn-intake';
import { TurnRepository } from './turn-repository';
import { TurnScheduler, type SchedulerProbes } from './turn-scheduler';
import { TurnService } from './turn-service';

export interface TurnEngine {
  intake: TurnIntake;
  turns: TurnService;
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
  /** Tests only: act at exact points of the scheduler's loop. */
  probes?: SchedulerProbes;
}): Promise<TurnEngine> {
  const { config, models } = d;
  const limits = config.limits;
  const repo = new TurnRepository(d.orm);
  const active = new ActiveTurns();

  const executor = new TurnExecutor({
    repo,
    active,
    config,
    broadcaster: d.broadcaster,
    models,
    toolDeps: d.toolDeps,
    logger: d.logger,
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
    overBudget: (summary, messages, budget) => contextExceedsBudget({ summary, messages }, budget),
  });

  const scheduler = new TurnScheduler(
    repo,
    { ...config.turns, singleNode: !config.redisUrl },
    { run: (t) => executor.run(t), interrupted: (t) => executor.announceInterrupted(t) },
    d.logger,
    d.probes,
  );

  const intake = new TurnIntake(repo, { queuedTurnsPerSession: limits.queuedTurnsPerSession });
  const cluster = new CrossNodeTurns(d.bus, active, d.logger);
  const turns = new TurnService(repo, d.broadcaster, intake, cluster, (sessionId) => scheduler.kick(sessionId));

  await scheduler.start();
  return {
    intake,
    turns,
    executor,
    scheduler,
    async close() {
      // Turns running here may finish within the grace period; then they are cancelled (and
      // still commit and end).
      await scheduler.close(limits.shutdownGraceMs, () => active.cancelAll());
    },
  };
}
