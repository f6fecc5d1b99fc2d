import { AppError } from '../../shared/errors';
import {
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  isRetryable,
  type FileJob,
  type JobHandler,
  type JobQueue,
  type JobQueueListeners,
  type RetryPolicy,
} from './job-queue';

export interface InProcessQueueOptions extends Partial<RetryPolicy> {
  /** Jobs run at the same time; each parse has its own thread, so 1-2 fit a small machine. */
  concurrency?: number;
}

interface Entry {
  job: FileJob;
  attempt: number;
}

/**
 * The embedded-mode queue: FIFO in memory, deduplicated by file id while a job is waiting,
 * running or waiting to retry. Jobs are lost with the process; the composition root re-enqueues
 * unfinished files at start (see recover.ts).
 */
export class InProcessJobQueue implements JobQueue {
  private readonly policy: RetryPolicy;
  private readonly concurrency: number;
  private readonly waiting: Entry[] = [];
  /** Ids waiting, running or scheduled to retry. */
  private readonly known = new Set<string>();
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private handler?: JobHandler;
  private listeners: JobQueueListeners = {};
  private closed = false;

  constructor(opts: InProcessQueueOptions = {}) {
    this.policy = { attempts: opts.attempts ?? DEFAULT_RETRY_POLICY.attempts, backoffMs: opts.backoffMs ?? DEFAULT_RETRY_POLICY.backoffMs };
    this.concurrency = Math.max(1, opts.concurrency ?? 1);
  }

  async enqueue(job: FileJob): Promise<void> {
    if (this.closed) throw new AppError('UNAVAILABLE', 'the file queue is closed');
    if (this.known.has(job.fileId)) return;
    this.known.add(job.fileId);
    this.waiting.push({ job: { fileId: job.fileId, roomId: job.roomId }, attempt: 1 });
    this.pump();
  }

  process(handler: JobHandler, listeners: JobQueueListeners = {}): void {
    if (this.handler) throw new Error('process() was already called on this queue');
    this.handler = handler;
    this.listeners = listeners;
    this.pump();
  }

  async health(): Promise<void> {
    if (this.closed) throw new AppError('UNAVAILABLE', 'the file queue is closed');
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.retryTimers) clearTimeout(t);
    this.retryTimers.clear();
    this.waiting.length = 0;
    await Promise.allSettled([...this.running]);
  }

  private pump() {
    while (!this.closed && this.handler && this.running.size < this.concurrency && this.waiting.length > 0) {
      const entry = this.waiting.shift()!;
      const run = this.run(this.handler, entry).finally(() => {
        this.running.delete(run);
        this.pump();
      });
      this.running.add(run);
    }
  }

  private async run(handler: JobHandler, { job, attempt }: Entry) {
    const finalAttempt = attempt >= this.policy.attempts;
    try {
      await handler(job, { attempt, finalAttempt });
      this.known.delete(job.fileId);
      this.safely(() => this.listeners.completed?.(job));
    } catch (err) {
      const final = finalAttempt || !isRetryable(err) || this.closed;
      this.safely(() => this.listeners.failed?.(job, err, { attempt, finalAttempt, final }));
      if (final) {
        this.known.delete(job.fileId);
        return;
      }
      const timer = setTimeout(() => {
        this.retryTimers.delete(timer);
        this.waiting.push({ job, attempt: attempt + 1 });
        this.pump();
      }, backoffDelay(this.policy, attempt));
      this.retryTimers.add(timer);
    }
  }

  /** A throwing listener must not break the queue. */
  private safely(fn: () => void) {
    try {
      fn();
    } catch {
      /* listeners log; their failures are not the job's */
    }
  }
}
