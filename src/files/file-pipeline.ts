import type { AppConfig } from '../config/config';
import type { Orm } from '../db/orm';
import type { Broadcaster } from '../events/broadcaster';
import type { Logger } from '../shared/logger';
import { createFileProcessor } from './parsing/file-processor';
import { parseRunLimits } from './parsing/parse-runner';
import { BullMqJobQueue } from './queue/bullmq-queue';
import { InProcessJobQueue } from './queue/in-process-queue';
import type { JobQueue } from './queue/job-queue';
import { requeueUnfinishedFiles } from './queue/recover';
import { DiskFileStore, type FileStore, type StagedFile } from './upload/file-store';
import { registerUpload, type RegisteredFile, type UploadInput } from './upload/register-upload';

/**
 * - embedded: in-process queue, parses in this process (worker threads); no Redis.
 * - producer: a scaled-mode server; enqueues on BullMQ, `npm run worker` parses.
 * - worker: the BullMQ consumer (workers/file-worker.ts).
 */
export type FilePipelineRole = 'embedded' | 'producer' | 'worker';

export interface FilePipelineDeps {
  config: AppConfig;
  orm: Orm;
  broadcaster: Broadcaster;
  logger: Logger;
  role: FilePipelineRole;
  /** Parses at a time (embedded, worker). */
  concurrency?: number;
  /** BullMQ stalled-job timings (worker). */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
}

export interface FilePipeline {
  store: FileStore;
  queue: JobQueue;
  /** Where the upload route streams a body to (see FileStore.stage), before `upload`. */
  stage(source: AsyncIterable<Uint8Array>, signal?: AbortSignal): Promise<StagedFile>;
  discard(staged: Pick<StagedFile, 'path'>): Promise<void>;
  /** What the upload route calls (see registerUpload for its errors). */
  upload(input: UploadInput): Promise<RegisteredFile>;
  /** The queue's readiness, for GET /health. */
  health(): Promise<void>;
  close(): Promise<void>;
}

/** Builds the file pieces for one process, the same way for the server and the worker. */
export async function createFilePipeline(deps: FilePipelineDeps): Promise<FilePipeline> {
  const { config, orm, broadcaster, logger, role } = deps;
  const store = DiskFileStore.forDataDir(config.dataDir);
  let queue: JobQueue;
  if (role === 'embedded') {
    queue = new InProcessJobQueue({ concurrency: deps.concurrency ?? 1 });
  } else {
    if (!config.redisUrl) throw new Error(`the ${role} file pipeline needs REDIS_URL`);
    queue = new BullMqJobQueue({
      redisUrl: config.redisUrl,
      keyPrefix: config.redisKeyPrefix,
      concurrency: deps.concurrency ?? 2,
      lockDurationMs: deps.lockDurationMs,
      stalledIntervalMs: deps.stalledIntervalMs,
      logger,
    });
  }

  if (role !== 'worker') {
    // Uploads a dead process was receiving. Embedded, DATA_DIR is this process's alone (locked);
    // scaled, other nodes may share it, so only files older than any upload can be are leftovers.
    const removed = await store.sweepStaging(role === 'embedded' ? 0 : config.limits.uploadTimeoutMs);
    if (removed) logger.info('unfinished uploads removed', { removed });
  }
  if (role !== 'producer') {
    try {
      await startProcessing(deps, store, queue);
    } catch (err) {
      await queue.close().catch(() => undefined);
      throw err;
    }
  }

  return {
    store,
    queue,
    stage: (source, signal) => store.stage(source, signal),
    discard: (staged) => store.discard(staged),
    upload: (input) => registerUpload({ orm, store, queue, broadcaster, limits: config.limits, logger }, input),
    health: () => queue.health(),
    close: () => queue.close(),
  };
}

async function startProcessing({ config, orm, broadcaster, logger }: FilePipelineDeps, store: FileStore, queue: JobQueue) {
  const processor = createFileProcessor({ orm, store, broadcaster, parse: parseRunLimits(config.limits), logger });
  queue.process(processor.handle, {
    failed: (job, err, info) => {
      logger.warn('file job failed', { fileId: job.fileId, attempt: info.attempt, final: info.final, err });
      // A job the queue gave up on without the handler recording it (e.g. stalled too often).
      if (info.final) {
        void processor.recordFailure(job, err).catch((e: unknown) => logger.error('recording a file failure failed', { fileId: job.fileId, err: e }));
      }
    },
  });
  // Files left queued or parsing by an earlier process (embedded mode loses its queue on exit).
  const requeued = await requeueUnfinishedFiles(orm, queue);
  if (requeued) logger.info('unfinished files requeued', { requeued });
}
