import type { FileKind, ParsedContent } from '../../db/entities/file';
import { DEFAULT_PARSE_LIMITS, type ParseLimits, type ParseRequest, type ParseSource } from './parsers/types';
import { WorkerPool } from './worker-pool';
import type { WorkerLimits, WorkerRunOptions } from './worker-task';

// The thread's module beside this one: parse-task.ts from the sources, parse-task.js from dist/.
const PARSE_TASK_URL = new URL(`./parse-task${import.meta.url.endsWith('.js') ? '.js' : '.ts'}`, import.meta.url).href;

export interface ParseRunOptions extends WorkerLimits, WorkerRunOptions {
  limits?: Partial<ParseLimits>;
}

/** Limits of a parse from the app's config. */
export function parseRunLimits(limits: { csvMaxRows: number; pdfMaxPages: number; parseTimeoutMs: number; parseMemoryMb: number }) {
  return {
    timeoutMs: limits.parseTimeoutMs,
    memoryMb: limits.parseMemoryMb,
    limits: {
      csvMaxRows: limits.csvMaxRows,
      pdfMaxPages: limits.pdfMaxPages,
      // pdf.js grows a stream's buffer by doubling: one of N bytes may briefly need about 2N.
      pdfMaxStreamBytes: (limits.parseMemoryMb * 1024 * 1024) / 2,
    },
  } satisfies ParseRunOptions;
}

/** Parse threads per process: as many as the queues run parses at once (the in-process queue runs 1, a worker 2). */
const POOL_SIZE = 2;
/**
 * A thread is retired after this many parses (whatever a parse leaked cannot pile up past it, and
 * the heap cap bounds it meanwhile). Not fewer: pdf.js in a fresh thread runs about 10% slower
 * than in a warm one for its first few dozen files, so a thread retired after 50 spent most of its
 * life warming up.
 */
const TASKS_PER_THREAD = 500;
/** One pool per memory limit (in practice one: PARSE_MEMORY_MB). */
const pools = new Map<number, WorkerPool>();
const poolFor = (memoryMb: number) => {
  let pool = pools.get(memoryMb);
  if (!pool) pools.set(memoryMb, (pool = new WorkerPool({ size: POOL_SIZE, memoryMb, maxTasksPerWorker: TASKS_PER_THREAD })));
  return pool;
};

/**
 * Parses off the main event loop, in a pooled worker thread limited to `memoryMb` of heap (and as
 * much in buffers outside it) and `timeoutMs` of wall time. Fails with a ParseError: the parser's
 * own code, or PARSE_TIMEOUT / PARSE_MEMORY / PARSE_ABORTED / PARSE_WORKER_FAILED / PARSE_FAILED. Progress arrives as fractions from 0 to 1.
 */
export function runParse(kind: FileKind, source: ParseSource, opts: ParseRunOptions): Promise<ParsedContent> {
  // Bytes: a private copy whose buffer can be moved to the thread instead of cloned. A path: the thread reads the file.
  const copy = source instanceof Uint8Array ? new Uint8Array(source) : source;
  const request: ParseRequest = { kind, source: copy, limits: { ...DEFAULT_PARSE_LIMITS, ...opts.limits } };
  return poolFor(opts.memoryMb).run<ParsedContent>(
    { moduleUrl: PARSE_TASK_URL, exportName: 'runParseTask', input: request, transferList: copy instanceof Uint8Array ? [copy.buffer as ArrayBuffer] : [] },
    opts.timeoutMs,
    { onProgress: opts.onProgress, signal: opts.signal },
  );
}
