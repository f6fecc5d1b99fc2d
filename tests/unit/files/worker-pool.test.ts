import { afterEach, describe, expect, it } from 'vitest';
import { WorkerPool } from '../../../src/files/parsing/worker-pool';

const TASKS = new URL('./worker-fixtures/tasks.ts', import.meta.url).href;
const task = (exportName: string, input: unknown = {}) => ({ moduleUrl: TASKS, exportName, input });

describe('WorkerPool', () => {
  let pool: WorkerPool;
  afterEach(() => pool?.close());

  it('reuses a warm thread for the next task and relays progress', async () => {
    pool = new WorkerPool({ size: 1, memoryMb: 64, maxTasksPerWorker: 10 });
    const progress: number[] = [];
    expect(await pool.run(task('echo', { value: 'a' }), 10_000, { onProgress: (f) => progress.push(f) })).toEqual({ echoed: 'a' });
    expect(progress).toEqual([0.5, 1]);
    const first = await pool.run<number>(task('whichThread'), 10_000);
    const second = await pool.run<number>(task('whichThread'), 10_000);
    expect(second).toBe(first);
    expect(pool.threads).toBe(1);
  });

  it('keeps the thread after a task that threw: a ParseError keeps its code, anything else is PARSE_FAILED', async () => {
    pool = new WorkerPool({ size: 1, memoryMb: 64, maxTasksPerWorker: 10 });
    const before = await pool.run<number>(task('whichThread'), 10_000);
    await expect(pool.run(task('parseFailure'), 10_000)).rejects.toMatchObject({ code: 'CSV_MALFORMED', retryable: false });
    await expect(pool.run(task('crash'), 10_000)).rejects.toMatchObject({ code: 'PARSE_FAILED', retryable: false, message: expect.stringContaining('a bug in a parser') });
    expect(await pool.run<number>(task('whichThread'), 10_000)).toBe(before);
  });

  it('replaces a thread that timed out, ran out of memory or exited, and runs the next task', async () => {
    pool = new WorkerPool({ size: 1, memoryMb: 32, maxTasksPerWorker: 10 });
    const before = await pool.run<number>(task('whichThread'), 10_000);
    await expect(pool.run(task('spin'), 200)).rejects.toMatchObject({ code: 'PARSE_TIMEOUT' });
    const afterTimeout = await pool.run<number>(task('whichThread'), 10_000);
    expect(afterTimeout).not.toBe(before);
    await expect(pool.run(task('hog'), 30_000)).rejects.toMatchObject({ code: 'PARSE_MEMORY' });
    await expect(pool.run(task('exitEarly'), 10_000)).rejects.toMatchObject({ code: 'PARSE_WORKER_FAILED' });
    expect(await pool.run(task('echo', { value: 'still here' }), 10_000)).toEqual({ echoed: 'still here' });
  });

  it('retires a thread after its share of tasks', async () => {
    pool = new WorkerPool({ size: 1, memoryMb: 64, maxTasksPerWorker: 2 });
    const a = await pool.run<number>(task('whichThread'), 10_000);
    const b = await pool.run<number>(task('whichThread'), 10_000);
    const c = await pool.run<number>(task('whichThread'), 10_000);
    expect(b).toBe(a);
    expect(c).not.toBe(a);
  });

  it('queues tasks beyond its size and cancels one on abort', async () => {
    pool = new WorkerPool({ size: 1, memoryMb: 64, maxTasksPerWorker: 10 });
    const ac = new AbortController();
    const spinning = pool.run(task('spin'), 10_000, { signal: ac.signal });
    const queued = pool.run(task('echo', { value: 'after' }), 10_000);
    ac.abort();
    await expect(spinning).rejects.toMatchObject({ code: 'PARSE_ABORTED' });
    expect(await queued).toEqual({ echoed: 'after' });
    expect(pool.threads).toBe(1);
  });
});
