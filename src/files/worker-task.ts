import { Worker } from 'node:worker_threads';
import { ParseError, type ParseErrorJson } from './parse-error';

/**
 * Runs one exported function of a TypeScript module in a fresh worker thread, with a heap limit
 * and a time limit, so a parse can neither block the event loop nor take the process down with
 * it. One thread per task: a terminated or out-of-memory thread leaves nothing behind.
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
  /** V8 old-generation heap of the thread. ArrayBuffers live outside it: parsers cap those themselves. */
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

const ENTRY = new URL('./worker-entry.mjs', import.meta.url);

export function fromWorkerError(err: Error & { code?: string }): ParseError {
  if (err.code === 'ERR_WORKER_OUT_OF_MEMORY') {
    return new ParseError('PARSE_MEMORY', 'the parse needed more memory than allowed', { cause: err });
  }
  if (err.code === 'ERR_WORKER_INIT_FAILED') {
    return new ParseError('PARSE_WORKER_FAILED', `the parse worker could not start: ${err.message}`, { retryable: true, cause: err });
  }
  return new ParseError('PARSE_FAILED', `the parse failed: ${err.message}`, { cause: err });
}

export function runWorkerTask<R>(task: WorkerTask<unknown>, limits: WorkerLimits, opts: WorkerRunOptions = {}): Promise<R> {
  if (opts.signal?.aborted) return Promise.reject(new ParseError('PARSE_ABORTED', 'the parse was cancelled', { retryable: true }));
  return new Promise<R>((resolve, reject) => {
    const worker = new Worker(ENTRY, {
      workerData: { moduleUrl: task.moduleUrl, exportName: task.exportName, input: task.input },
      transferList: task.transferList,
      // Not the parent's flags: under `tsx` they would load tsx's loader into the thread, which
      // transforms node_modules too (10x slower start); worker-ts-hooks.mjs loads only our .ts.
      execArgv: [],
      resourceLimits: { maxOldGenerationSizeMb: limits.memoryMb },
    });
    let settled = false;
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      // The answer is in; nothing in the thread is worth waiting for (pdf.js may keep handles open).
      void worker.terminate();
      outcome();
    };
    const timer = setTimeout(
      () => finish(() => reject(new ParseError('PARSE_TIMEOUT', `the parse took longer than ${limits.timeoutMs} ms`))),
      limits.timeoutMs,
    );
    const onAbort = () => finish(() => reject(new ParseError('PARSE_ABORTED', 'the parse was cancelled', { retryable: true })));
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    worker.on('message', (msg: WorkerMessage) => {
      if (msg.type === 'progress') {
        if (!settled) opts.onProgress?.(msg.fraction);
      } else if (msg.type === 'result') {
        finish(() => resolve(msg.result as R));
      } else {
        const e = msg.error;
        finish(() => reject('parseError' in e ? ParseError.fromJSON(e.parseError) : new ParseError('PARSE_FAILED', `the parse failed: ${e.message}`)));
      }
    });
    worker.on('error', (err) => finish(() => reject(fromWorkerError(err))));
    worker.on('exit', (code) =>
      finish(() => reject(new ParseError('PARSE_WORKER_FAILED', `the parse worker exited (code ${code}) without an answer`, { retryable: true }))),
    );
  });
}
