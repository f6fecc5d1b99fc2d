import { ParseError, type ParseErrorJson } from '../parse-error';

/**
 * What a parse thread runs and how it answers (see worker-pool.ts): one exported function of a
 * TypeScript module, with a heap limit and a time limit, so a parse can neither block the event
 * loop nor take the process down with it.
 */

export interface WorkerTask<I> {
  /** file:// URL of the module; its export is called as `fn(input, reportProgress)`. */
  moduleUrl: string;
  exportName: string;
  input: I;
  /** ArrayBuffers inside `input` to move rather than copy. */
  transferList?: ArrayBuffer[];
}

export interface WorkerLimits {
  timeoutMs: number;
  /** V8 old-generation heap of the thread; also the cap on its ArrayBuffers outside the heap (watched by the pool). */
  memoryMb: number;
}

export interface WorkerRunOptions {
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
}

export type WorkerMessage =
  | { type: 'progress'; fraction: number }
  | { type: 'result'; result: unknown }
  | { type: 'error'; error: { parseError: ParseErrorJson } | { name: string; message: string } };

/** A thread's own failure (not an error thrown by the task) as a ParseError. */
export function fromWorkerError(err: Error & { code?: string }): ParseError {
  if (err.code === 'ERR_WORKER_OUT_OF_MEMORY') {
    return new ParseError('PARSE_MEMORY', 'the parse needed more memory than allowed', { cause: err });
  }
  if (err.code === 'ERR_WORKER_INIT_FAILED') {
    return new ParseError('PARSE_WORKER_FAILED', `the parse worker could not start: ${err.message}`, { retryable: true, cause: err });
  }
  return new ParseError('PARSE_FAILED', `the parse failed: ${err.message}`, { cause: err });
}
