import { isParseError } from '../parse-error';

/**
 * The queue of file-parsing jobs. Two implementations pass one shared suite
 * (tests/helpers/job-queue-suite.ts): in-process (embedded mode) and BullMQ (scaled mode).
 */

/** The job id is the file id: enqueueing a file that is already waiting or running is a no-op. */
export interface FileJob {
  fileId: string;
  roomId: string;
}

export interface JobAttempt {
  /** 1 for the first run. */
  attempt: number;
  /** No retry follows if this attempt fails: the handler records a final failure now. */
  finalAttempt: boolean;
}

/**
 * Runs one job. Throwing fails the attempt: a non-retryable ParseError fails the job at once,
 * anything else is retried with backoff until the attempts run out.
 */
export type JobHandler = (job: FileJob, attempt: JobAttempt) => Promise<void>;

export interface JobQueueListeners {
  /** An attempt failed; `final` when the job will not run again. */
  failed?: (job: FileJob, error: unknown, info: JobAttempt & { final: boolean }) => void;
  completed?: (job: FileJob) => void;
}

export interface JobQueue {
  enqueue(job: FileJob): Promise<void>;
  /** Starts consuming with `handler` (once per queue). Jobs enqueued before are kept and run. */
  process(handler: JobHandler, listeners?: JobQueueListeners): void;
  /** Stops taking jobs, lets running ones finish, and releases connections. */
  close(): Promise<void>;
  /** Resolves when the queue can take jobs; rejects otherwise. */
  health(): Promise<void>;
}

export interface RetryPolicy {
  /** Runs per job, the first included. */
  attempts: number;
  /** Delay before the first retry; doubles on each next one. */
  backoffMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 3, backoffMs: 1000 };

/** Unparseable files never become parseable: only errors that say they may pass are retried. */
export const isRetryable = (err: unknown) => (isParseError(err) ? err.retryable : true);

export const backoffDelay = (policy: RetryPolicy, attempt: number) => policy.backoffMs * 2 ** (attempt - 1);
