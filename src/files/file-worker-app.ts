import { z } from 'zod';
import { ConfigError, type AppConfig } from '../config/config';
import { migrateUp, openOrm } from '../db/orm';
import { assertRedisReachable, createRedis, quitRedis } from '../infra/redis';
import { createRedisBroadcaster } from '../events/redis-broadcaster';
import type { Logger } from '../shared/logger';
import { createFilePipeline } from './file-pipeline';

/**
 * Settings only the worker reads. The stalled-job timings decide how soon a job whose worker died
 * runs again elsewhere; tests shorten them, production keeps BullMQ's defaults.
 */
const workerEnvSchema = z.object({
  FILE_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(32).default(2),
  FILE_QUEUE_LOCK_DURATION_MS: z.coerce.number().int().min(200).max(600_000).default(30_000),
  FILE_QUEUE_STALLED_INTERVAL_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
});

export type FileWorkerSettings = z.infer<typeof workerEnvSchema>;

export function loadFileWorkerSettings(env: Record<string, string | undefined> = process.env): FileWorkerSettings {
  const parsed = workerEnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => ({ variable: String(i.path[0] ?? '?'), message: i.message })));
  }
  return parsed.data;
}

export interface FileWorker {
  close(): Promise<void>;
}

/**
 * The scaled-mode file worker: BullMQ jobs in, parsed files and room events (through Redis) out.
 * It shares PostgreSQL, Redis and DATA_DIR with the servers.
 */
export async function startFileWorker(config: AppConfig, settings: FileWorkerSettings, logger: Logger): Promise<FileWorker> {
  const { redisUrl, databaseUrl } = config;
  if (!redisUrl || !databaseUrl) {
    throw new ConfigError([
      ...(redisUrl ? [] : [{ variable: 'REDIS_URL', message: 'is required: the file worker takes its jobs from BullMQ' }]),
      ...(databaseUrl ? [] : [{ variable: 'DATABASE_URL', message: 'is required: the file worker shares the servers’ PostgreSQL' }]),
    ]);
  }

  const orm = await openOrm(config);
  const closers: (() => Promise<unknown>)[] = [() => orm.close(true)];
  const close = async () => {
    // Reverse order: the queue first (it lets running parses finish), the database last.
    for (const c of closers.splice(0).reverse()) {
      await c().catch((err: unknown) => logger.warn('error while closing', { err }));
    }
  };
  try {
    await migrateUp(orm);
    const redis = createRedis(redisUrl, logger, `${config.redisKeyPrefix}file-worker`);
    closers.push(() => quitRedis(redis));
    await assertRedisReachable(redis, redisUrl);
    const broadcaster = createRedisBroadcaster(redis, {
      keyPrefix: config.redisKeyPrefix,
      maxEvents: config.limits.replayLogMaxEvents,
      ttlSeconds: config.limits.replayLogTtlSeconds,
    });
    closers.push(() => broadcaster.close());
    const pipeline = await createFilePipeline({
      config,
      orm,
      broadcaster,
      logger,
      role: 'worker',
      concurrency: settings.FILE_WORKER_CONCURRENCY,
      lockDurationMs: settings.FILE_QUEUE_LOCK_DURATION_MS,
      stalledIntervalMs: settings.FILE_QUEUE_STALLED_INTERVAL_MS,
    });
    closers.push(() => pipeline.close());
    logger.info('file worker ready', { concurrency: settings.FILE_WORKER_CONCURRENCY });
    return { close };
  } catch (err) {
    await close();
    throw err;
  }
}
