import { describe, expect, it } from 'vitest';
import { ParseError } from '../../../src/files/parse-error';
import { runWorkerTask } from '../../../src/files/worker-task';

const TASKS = new URL('./worker-fixtures/tasks.ts', import.meta.url).href;
const LIMITS = { timeoutMs: 10_000, memoryMb: 64 };

const run = (exportName: string, limits = LIMITS, input: unknown = {}) =>
  runWorkerTask({ moduleUrl: TASKS, exportName, input }, limits);

async function failure(promise: Promise<unknown>): Promise<ParseError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ParseError);
  return err as ParseError;
}

describe('runWorkerTask', () => {
  it('runs a TypeScript task in a thread and relays its progress and result', async () => {
    const progress: number[] = [];
    const result = await runWorkerTask({ moduleUrl: TASKS, exportName: 'echo', input: { value: 'hi' } }, LIMITS, { onProgress: (f) => progress.push(f) });
    expect(result).toEqual({ echoed: 'hi' });
    expect(progress).toEqual([0.5, 1]);
  });

  it('terminates a task past its time limit with PARSE_TIMEOUT, and the event loop stays free meanwhile', async () => {
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    const err = await failure(run('spin', { timeoutMs: 600, memoryMb: 64 }));
    clearInterval(ticker);
    expect(err.code).toBe('PARSE_TIMEOUT');
    expect(err.retryable).toBe(false);
    expect(ticks).toBeGreaterThan(5); // the spinning thread never blocked this one
  });

  it('stops a task past its heap limit with PARSE_MEMORY, without harming this process', async () => {
    const err = await failure(run('hog', { timeoutMs: 20_000, memoryMb: 32 }));
    expect(err.code).toBe('PARSE_MEMORY');
    // This process is fine and can run the next task.
    await expect(run('echo', LIMITS, { value: 'after' })).resolves.toEqual({ echoed: 'after' });
  });

  it('keeps the code of a ParseError thrown in the thread', async () => {
    const err = await failure(run('parseFailure'));
    expect([err.code, err.message, err.retryable]).toEqual(['CSV_MALFORMED', 'broken on purpose', false]);
  });

  it('reports any other error as PARSE_FAILED, not retryable', async () => {
    const err = await failure(run('crash'));
    expect(err.code).toBe('PARSE_FAILED');
    expect(err.message).toContain('a bug in a parser');
    expect(err.retryable).toBe(false);
  });

  it('reports a thread that exits without an answer as PARSE_WORKER_FAILED, retryable', async () => {
    const err = await failure(run('exitEarly'));
    expect(err.code).toBe('PARSE_WORKER_FAILED');
    expect(err.retryable).toBe(true);
  });

  it('stops at once when aborted, with PARSE_ABORTED', async () => {
    const controller = new AbortController();
    const pending = runWorkerTask({ moduleUrl: TASKS, exportName: 'spin', input: {} }, LIMITS, { signal: controller.signal });
    controller.abort();
    const err = await failure(pending);
    expect([err.code, err.retryable]).toEqual(['PARSE_ABORTED', true]);
  });
});
