import type { FileKind, FileStatus, ParsedContent } from '../../db/entities/file';
import { StoredFile } from '../../db/entities/file';
import type { Em, Orm } from '../../db/orm';
import type { Broadcaster } from '../../events/broadcaster';
import { createLogger, type Logger } from '../../shared/logger';
import type { FileStore } from '../upload/file-store';
import { isRetryable, type FileJob, type JobAttempt, type JobHandler } from '../queue/job-queue';
import { isParseError, ParseError } from '../parse-error';
import { runParse, type ParseRunOptions } from './parse-runner';
import type { ParseSource } from './parsers/types';

export interface FileProcessorDeps {
  orm: Orm;
  store: FileStore;
  broadcaster: Broadcaster;
  /** Time, memory and parser limits of one parse (see parseRunLimits). */
  parse: Omit<ParseRunOptions, 'onProgress' | 'signal'>;
  logger?: Logger;
  /** Replaced in tests; defaults to the worker-thread runner. */
  runParse?: (kind: FileKind, source: ParseSource, opts: ParseRunOptions) => Promise<ParsedContent>;
}

export interface FileProcessor {
  /** The job handler both queues run. */
  handle: JobHandler;
  /**
   * Records a failure the handler never saw, e.g. a job the queue gave up on after its worker
   * died repeatedly. A no-op when the file is already ready or failed.
   */
  recordFailure(job: FileJob, error: unknown): Promise<void>;
}

/** What the processor keeps in `files.meta`. */
interface FileMeta {
  /** Times a parse of this file started (a job redelivered after a crash starts again). */
  parseAttempts?: number;
  /** false between committing the final status and publishing its event: a redelivery re-publishes. */
  announced?: boolean;
  parseMs?: number;
  [key: string]: unknown;
}

const UNFINISHED: FileStatus[] = ['queued', 'parsing'];
/** Progress percent of each stage; parsing spans PARSE_FROM..PARSE_TO in steps of PARSE_STEP. */
const PARSE_FROM = 20;
const PARSE_TO = 90;
const PARSE_STEP = 10;

function asParseError(err: unknown): ParseError {
  if (isParseError(err)) return err;
  return new ParseError('PROCESSING_FAILED', 'the file could not be processed; try uploading it again', { retryable: true, cause: err });
}

/**
 * Processes one file job, once: a file already ready or failed is skipped (only its final event
 * is re-sent if a crash came between commit and publish), and the final status is committed with
 * a conditional update, so two deliveries racing on one file commit and announce it once.
 * Events, in order: file:progress reading 10, parsing 20..90, storing 95; then file:ready or
 * file:failed. Progress is best effort; the final event is retried with the job until sent.
 */
export function createFileProcessor(deps: FileProcessorDeps): FileProcessor {
  const logger = deps.logger ?? createLogger('silent');
  const parse = deps.runParse ?? runParse;

  const progress = async (file: StoredFile, stage: 'reading' | 'parsing' | 'storing', percent: number) => {
    try {
      await deps.broadcaster.publish(file.room.id, 'file:progress', { fileId: file.id, stage, percent });
    } catch (err) {
      logger.warn('file progress not published', { fileId: file.id, err });
    }
  };

  /** Publishes the final event of a committed file, then marks it announced. */
  const announce = async (em: Em, file: StoredFile, meta: FileMeta) => {
    if (file.status === 'ready') {
      await deps.broadcaster.publish(file.room.id, 'file:ready', { fileId: file.id, filename: file.filename, kind: file.kind, status: 'ready' });
    } else {
      await deps.broadcaster.publish(file.room.id, 'file:failed', {
        fileId: file.id,
        filename: file.filename,
        code: file.errorCode ?? 'PROCESSING_FAILED',
        message: file.errorMessage ?? 'the file could not be processed',
      });
    }
    await em.nativeUpdate(StoredFile, { id: file.id }, { meta: { ...meta, announced: true } });
  };

  /** Commits the final state if nobody else did; true when this call won. */
  const commit = async (em: Em, file: StoredFile, meta: FileMeta, outcome: { parsed: ParsedContent } | { error: ParseError }) => {
    const finalMeta: FileMeta = { ...meta, announced: false };
    const changes =
      'parsed' in outcome
        ? { status: 'ready' as const, parsed: outcome.parsed, errorCode: null, errorMessage: null }
        : { status: 'failed' as const, errorCode: outcome.error.code, errorMessage: outcome.error.message };
    const updated = await em.nativeUpdate(StoredFile, { id: file.id, status: { $in: UNFINISHED } }, { ...changes, meta: finalMeta, updatedAt: new Date() });
    if (updated === 0) return false;
    Object.assign(file, changes);
    await announce(em, file, finalMeta);
    return true;
  };

  const parseFile = async (file: StoredFile): Promise<ParsedContent> => {
    await progress(file, 'reading', 10);
    // The thread reads the file itself: its bytes never sit in this process's memory.
    const path = await deps.store.verifiedPath(file.sha256);
    await progress(file, 'parsing', PARSE_FROM);
    // The thread reports fractions synchronously; events go out one after another, in order.
    let published = PARSE_FROM;
    let chain = Promise.resolve();
    const onProgress = (fraction: number) => {
      const percent = PARSE_FROM + Math.floor((fraction * (PARSE_TO - PARSE_FROM)) / PARSE_STEP) * PARSE_STEP;
      if (percent < published + PARSE_STEP) return;
      published = percent;
      chain = chain.then(() => progress(file, 'parsing', percent));
    };
    try {
      return await parse(file.kind, { path }, { ...deps.parse, onProgress });
    } finally {
      await chain;
    }
  };

  const handle = async (job: FileJob, attempt: JobAttempt) => {
    const em = deps.orm.em.fork();
    const file = await em.findOne(StoredFile, { id: job.fileId });
    if (!file) {
      logger.info('file job for a file that no longer exists', { fileId: job.fileId });
      return;
    }
    const meta: FileMeta = { ...(file.meta ?? {}) };
    if (!UNFINISHED.includes(file.status)) {
      if (meta.announced === false) await announce(em, file, meta);
      return;
    }
    meta.parseAttempts = (meta.parseAttempts ?? 0) + 1;
    file.status = 'parsing';
    file.meta = meta;
    await em.flush();

    const started = performance.now();
    let outcome: { parsed: ParsedContent } | { error: ParseError };
    try {
      outcome = { parsed: await parseFile(file) };
    } catch (err) {
      // Transient trouble (database, disk, a thread that died) is the queue's to retry, until the last attempt.
      if (isRetryable(err) && !attempt.finalAttempt) throw err;
      outcome = { error: asParseError(err) };
      logger.warn('file parse failed', { fileId: file.id, code: outcome.error.code, err });
    }
    meta.parseMs = Math.round(performance.now() - started);
    if ('parsed' in outcome) await progress(file, 'storing', 95);
    await commit(em, file, meta, outcome);
    // Failing the job too lets the queue count it as failed (and not retry a non-retryable one).
    if ('error' in outcome) throw outcome.error;
  };

  const recordFailure = async (job: FileJob, error: unknown) => {
    const em = deps.orm.em.fork();
    const file = await em.findOne(StoredFile, { id: job.fileId });
    if (!file || !UNFINISHED.includes(file.status)) return;
    const parseError = isParseError(error)
      ? error
      : new ParseError('PARSE_WORKER_FAILED', 'the file could not be parsed: its worker stopped repeatedly', { cause: error });
    await commit(em, file, { ...(file.meta ?? {}) }, { error: parseError });
  };

  return { handle, recordFailure };
}
