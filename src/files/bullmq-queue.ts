import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { AppError } from '../shared/errors';
import type { Logger } from '../shared/logger';
import { DEFAULT_RETRY_POLICY, isRetryable, type FileJob, type JobHandler, type JobQueue, type JobQueueListeners, type RetryPolicy } from './job-queue';

export interface BullMqQueueOptions extends Partial<RetryPolicy> {
  redisUrl: string;
  /** The deployment's REDIS_KEY_PREFIX; BullMQ keys go under `${prefix}bull:`. */
  keyPrefix: string;
  queueName?: string;
  concurrency?: number;
  /** How long a worker's lock on a job lasts without renewal; a killed worker's jobs wait this long. */
  lockDurationMs?: number;
  /** How often workers look for jobs whose lock expired (their worker died) and run them again. */
  stalledIntervalMs?: number;
  /** Bounded waits, so an HTTP upload answers UNAVAILABLE rather than hanging while Redis is away. */
  enqueueTimeoutMs?: number;
  healthTimeoutMs?: number;
  logger?: Logger;
}

const JOB_NAME = 'parse';

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AppError('UNAVAILABLE', `${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The error the handler threw: a non-retryable one travels inside BullMQ's UnrecoverableError. */
const original = (err: Error): unknown => (err instanceof UnrecoverableError && err.cause !== undefined ? err.cause : err);

/**
 * The scaled-mode queue on BullMQ. The job id is the file id, so a file already waiting, running,
 * or kept as finished is not added twice. Retries use exponential backoff; a non-retryable
 * ParseError becomes an UnrecoverableError (no retry). A worker that dies mid-job loses its lock,
 * and the stalled-job check hands the job to another worker. Every Redis connection is owned by
 * BullMQ and reports errors to the Queue/Worker, where they are logged: Redis going away never
 * throws out of an event emitter, and the clients reconnect by themselves.
 */
export class BullMqJobQueue implements JobQueue {
  private readonly queue: Queue;
  private worker?: Worker;
  private readonly policy: RetryPolicy;
  private readonly prefix: string;
  private readonly name: string;

  constructor(private readonly opts: BullMqQueueOptions) {
    this.policy = { attempts: opts.attempts ?? DEFAULT_RETRY_POLICY.attempts, backoffMs: opts.backoffMs ?? DEFAULT_RETRY_POLICY.backoffMs };
    // BullMQ joins prefix and queue name with ':'; keep a single separator.
    this.prefix = `${opts.keyPrefix.replace(/:+$/, '')}:bull`;
    this.name = opts.queueName ?? 'files';
    this.queue = new Queue(this.name, {
      prefix: this.prefix,
      // A producer fails a command after a few reconnect attempts instead of queueing it forever.
      connection: { url: opts.redisUrl, maxRetriesPerRequest: 2 },
      defaultJobOptions: {
        attempts: this.policy.attempts,
        backoff: { type: 'exponential', delay: this.policy.backoffMs },
        removeOnComplete: { age: 24 * 3600, count: 10_000 },
        removeOnFail: { age: 7 * 24 * 3600 },
      },
    });
    this.queue.on('error', (err) => this.opts.logger?.warn('file queue: redis error', { err }));
  }

  async enqueue(job: FileJob): Promise<void> {
    const data: FileJob = { fileId: job.fileId, roomId: job.roomId };
    await withTimeout(this.queue.add(JOB_NAME, data, { jobId: job.fileId }), this.opts.enqueueTimeoutMs ?? 10_000, 'enqueueing the file');
  }

  process(handler: JobHandler, listeners: JobQueueListeners = {}): void {
    if (this.worker) throw new Error('process() was already called on this queue');
    const attempts = this.policy.attempts;
    const worker = new Worker<FileJob>(
      this.name,
      async (job: Job<FileJob>) => {
        const attempt = job.attemptsMade + 1;
        try {
          await handler(job.data, { attempt, finalAttempt: attempt >= attempts });
        } catch (err) {
          if (isRetryable(err)) throw err;
          throw Object.assign(new UnrecoverableError((err as Error).message), { cause: err });
        }
      },
      {
        prefix: this.prefix,
        connection: { url: this.opts.redisUrl, maxRetriesPerRequest: null },
        concurrency: this.opts.concurrency ?? 1,
        ...(this.opts.lockDurationMs ? { lockDuration: this.opts.lockDurationMs } : {}),
        ...(this.opts.stalledIntervalMs ? { stalledInterval: this.opts.stalledIntervalMs } : {}),
      },
    );
    worker.on('error', (err) => this.opts.logger?.warn('file worker: redis error', { err }));
    worker.on('failed', (job, err) => {
      if (!job) return; // removed already: nothing left to report on
      // attemptsMade counts this attempt by now; finishedOn is set only when no retry follows.
      const attempt = job.attemptsMade;
      const info = { attempt, finalAttempt: attempt >= attempts, final: job.finishedOn !== undefined };
      try {
        listeners.failed?.(job.data, original(err), info);
      } catch (listenerErr) {
        this.opts.logger?.warn('file worker: failed-listener threw', { err: listenerErr });
      }
    });
    worker.on('completed', (job) => {
      try {
        listeners.completed?.(job.data);
      } catch (listenerErr) {
        this.opts.logger?.warn('file worker: completed-listener threw', { err: listenerErr });
      }
    });
    this.worker = worker;
  }

  async health(): Promise<void> {
    await withTimeout(this.queue.getJobCounts('waiting'), this.opts.healthTimeoutMs ?? 2000, 'the file queue health check');
    if (this.worker && !this.worker.isRunning()) throw new AppError('UNAVAILABLE', 'the file worker is not running');
  }

  /** Lets running jobs finish (BullMQ waits for them), then closes every connection. */
  async close(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
  }

  /** Removes every key of this queue (tests). */
  async obliterate(): Promise<void> {
    await this.queue.obliterate({ force: true });
  }
}
