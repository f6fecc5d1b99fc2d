import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { AppError } from '../../shared/errors';
import type { Logger } from '../../shared/logger';
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
  /**
   * How long close() lets running jobs finish before it stops waiting (their locks then expire
   * and another worker runs them). A graceful close also waits forever while Redis is away.
   */
  closeTimeoutMs?: number;
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

/** Logs a burst of connection errors once (BullMQ reconnects every second or so while Redis is away). */
function throttledWarn(logger: Logger | undefined, msg: string, everyMs = 5000) {
  let last = 0;
  return (err: Error) => {
    const now = Date.now();
    if (now - last < everyMs) return;
    last = now;
    logger?.warn(msg, { message: err.message });
  };
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
  /** Jobs this worker started whose outcome BullMQ has not recorded yet (see close()). */
  private readonly inFlight = new Set<string>();
  private idleWaiters: (() => void)[] = [];

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
    this.queue.on('error', throttledWarn(opts.logger, 'file queue: redis error'));
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
        this.inFlight.add(job.id ?? job.data.fileId);
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
    worker.on('error', throttledWarn(this.opts.logger, 'file worker: redis error'));
    worker.on('failed', (job, err) => {
      if (!job) return; // removed already: nothing left to report on
      this.settled(job.id);
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
      this.settled(job.id);
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

  private settled(jobId: string | undefined) {
    if (jobId) this.inFlight.delete(jobId);
    if (this.inFlight.size === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private untilIdle(): Promise<void> {
    if (this.inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Stops taking jobs, waits (up to closeTimeoutMs) until the running ones are finished and
   * recorded, then closes the connections. BullMQ's own graceful close is not used: while Redis
   * is away it waits forever, and a later forced close cannot interrupt it. A job still running at
   * the deadline loses its lock and runs again elsewhere; the processor makes that safe.
   */
  async close(): Promise<void> {
    if (this.worker) {
      const worker = this.worker;
      await worker.pause(true);
      try {
        await withTimeout(this.untilIdle(), this.opts.closeTimeoutMs ?? 45_000, 'waiting for running file jobs');
      } catch {
        this.opts.logger?.warn('file worker: running jobs did not finish in time; closing anyway', { jobs: [...this.inFlight] });
      }
      await worker.close(true);
    }
    await withTimeout(this.queue.close(), 5000, 'closing the file queue').catch(() => this.opts.logger?.warn('file queue: close timed out'));
  }

  /** Removes every key of this queue (tests). */
  async obliterate(): Promise<void> {
    await this.queue.obliterate({ force: true });
  }
}
