import type { AppConfig } from '../config/config';
import type { Orm } from '../db/orm';
import { contextExceedsBudget } from '../domain/budget';
import type { ModelProvider } from '../llm/model-provider';
import type { Realtime } from '../realtime/socket-server';
import { turnHandlers } from '../realtime/handlers/turn-handlers';
import type { Logger } from '../shared/logger';
import type { ToolDeps } from '../tools/registry';
import { planWithManager } from './manager';
import { runSummaryPipeline } from './summary';
import { TurnExecutor } from './turn-executor';
import { TurnIntake } from './turn-intake';
import { TurnScheduler } from './turn-scheduler';
import { TurnService } from './turn-service';

export interface TurnEngine {
  intake: TurnIntake;
  turns: TurnService;
  executor: TurnExecutor;
  scheduler: TurnScheduler;
  close(): Promise<void>;
}

/**
 * Assembles the turn engine (intake, scheduler, executor, cancel/audit service) and plugs its
 * socket handlers and cross-node signals into the realtime layer.
 */
export async function createTurnEngine(d: {
  orm: Orm;
  config: AppConfig;
  realtime: Realtime;
  models: ModelProvider;
  toolDeps: (roomId: string) => ToolDeps;
  logger: Logger;
}): Promise<TurnEngine> {
  const { config, realtime, models } = d;
  const { io, ctx } = realtime;
  const limits = config.limits;

  const executor = new TurnExecutor({
    orm: d.orm,
    config,
    broadcaster: ctx.broadcaster,
    models,
    toolDeps: d.toolDeps,
    logger: d.logger,
    planOrchestrator: async (req) => {
      const lastUser = [...req.recent].reverse().find((m) => m.authorType === 'user');
      const r = await planWithManager({
        models,
        alias: req.managerModelAlias,
        agents: req.agents,
        message: { authorName: lastUser?.authorName ?? 'user', content: req.text },
        recent: req.recent,
        limits: { managerMaxTokens: limits.managerMaxTokens, modelTimeoutMs: limits.modelTimeoutMs },
        signal: req.signal,
      });
      return { plan: r.plan, usage: r.usage };
    },
    summarize: async (req) => {
      const r = await runSummaryPipeline({
        models,
        alias: req.modelAlias,
        previousSummary: req.previous,
        messages: req.messages.map((m) => ({ author: m.authorName, content: m.content })),
        limits: { summaryMaxTokens: limits.summaryMaxTokens, modelTimeoutMs: limits.modelTimeoutMs },
        signal: req.signal,
      });
      return {
        summary: r.summary,
        fields: { topics: r.data.topics, decisions: r.data.decisions, openQuestions: r.data.openQuestions },
        usedFallback: r.data.usedFallback,
        usage: r.usage,
      };
    },
    overBudget: (summary, messages, budget) => contextExceedsBudget({ summary, messages }, budget),
  });

  const scheduler = new TurnScheduler(
    d.orm,
    {
      heartbeatMs: 5_000,
      staleAfterMs: 30_000,
      sweepMs: 10_000,
      singleNode: !config.redisUrl,
    },
    { run: (t) => executor.run(t), interrupted: (t) => executor.announceInterrupted(t) },
    d.logger,
  );

  // Cross-node signals through the adapter: cancel a turn running elsewhere, gather partial text.
  const serverSide = io as unknown as {
    serverSideEmit(ev: string, ...args: unknown[]): boolean;
    on(ev: string, fn: (...args: any[]) => void): void;
    serverSideEmitWithAck(ev: string, ...args: unknown[]): Promise<unknown[]>;
  };
  serverSide.on('pantheon:turn-cancel', (turnId: string) => executor.cancel(turnId));
  serverSide.on('pantheon:in-flight', (roomId: string, ack: (r: unknown) => void) => ack(executor.inFlight(roomId)));

  const turns = new TurnService(d.orm, ctx.broadcaster, (turnId) => {
    if (!executor.cancel(turnId) && config.redisUrl) serverSide.serverSideEmit('pantheon:turn-cancel', turnId);
  });
  const intake = new TurnIntake(d.orm);

  ctx.inFlightTurns = async (roomId) => {
    const local = executor.inFlight(roomId);
    if (!config.redisUrl) return local;
    try {
      // A node that does not answer within a second is left out; the snapshot must not wait on it.
      const remote = (await Promise.race([
        serverSide.serverSideEmitWithAck('pantheon:in-flight', roomId),
        new Promise((_, reject) => setTimeout(() => reject(new Error('no answer within 1s')), 1000).unref()),
      ])) as (typeof local)[];
      return [...local, ...remote.flat()];
    } catch (err) {
      d.logger.warn('gathering turns in flight from other nodes failed', { roomId, err });
      return local;
    }
  };
  realtime.use(turnHandlers({ orm: d.orm, intake, turns, kick: (sessionId) => scheduler.kick(sessionId) }));

  await scheduler.start();
  return {
    intake,
    turns,
    executor,
    scheduler,
    async close() {
      // Turns running here may finish within the grace period; then they are cancelled (and
      // still commit and end).
      await scheduler.close(limits.shutdownGraceMs, () => executor.cancelAll());
    },
  };
}
