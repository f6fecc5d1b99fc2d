import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRunLimits } from '../../../src/files/parsing/parse-runner';
import { DEFAULT_PARSE_LIMITS } from '../../../src/files/parsing/parsers/types';
import { WorkerPool } from '../../../src/files/parsing/worker-pool';
import { flateBombPdf, threePagePdf } from '../../helpers/file-fixtures';

const PARSE_TASK = new URL('../../../src/files/parsing/parse-task.ts', import.meta.url).href;
const TASKS = new URL('./worker-fixtures/tasks.ts', import.meta.url).href;

/** A small PARSE_MEMORY_MB, so a bomb of a size this test can afford to build proves the point. */
const MEMORY_MB = 64;
const INFLATED = 512 * 1024 * 1024;
const MB = 1024 * 1024;

/**
 * The process's peak RSS while `work` runs, above what it was before: parse threads are threads of
 * this process, so whatever they allocate shows here.
 */
async function rssGrowth<T>(work: () => Promise<T>): Promise<{ result: PromiseSettledResult<T>; grownBytes: number }> {
  const base = process.memoryUsage.rss();
  let peak = base;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 5);
  const [result] = await Promise.allSettled([work()]);
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage.rss());
  return { result, grownBytes: peak - base };
}

describe('parsing in bounded memory', () => {
  let pool: WorkerPool;
  const limits = { ...DEFAULT_PARSE_LIMITS, ...parseRunLimits({ csvMaxRows: 100, pdfMaxPages: 10, parseTimeoutMs: 60_000, parseMemoryMb: MEMORY_MB }).limits };
  const parse = (bytes: Uint8Array) => pool.run<{ pages: { text: string }[] }>({ moduleUrl: PARSE_TASK, exportName: 'runParseTask', input: { kind: 'pdf', source: bytes, limits } }, 60_000);
  const thread = () => pool.run<number>({ moduleUrl: TASKS, exportName: 'whichThread', input: {} }, 10_000);

  beforeAll(async () => {
    pool = new WorkerPool({ size: 1, memoryMb: MEMORY_MB, maxTasksPerWorker: 100 });
    // Warm: the thread and pdf.js are loaded before anything is measured.
    expect((await parse(threePagePdf())).pages).toHaveLength(3);
  });
  afterAll(() => pool?.close());

  it('refuses a PDF whose Flate stream inflates to 512 MiB with PDF_TOO_LARGE_INFLATED, inflating it only to count, in the same thread', async () => {
    const bomb = await flateBombPdf(INFLATED);
    expect(bomb.length).toBeLessThan(MB); // ~1000:1
    const before = await thread();
    const { result, grownBytes } = await rssGrowth(() => parse(bomb));
    expect(result.status).toBe('rejected');
    expect((result as PromiseRejectedResult).reason).toMatchObject({ code: 'PDF_TOO_LARGE_INFLATED', retryable: false });
    expect(grownBytes).toBeLessThan(INFLATED / 16);
    // The thread survived and parses the next file.
    expect(await thread()).toBe(before);
    expect((await parse(threePagePdf())).pages).toHaveLength(3);
  });

  it('stops a bomb the stream check cannot see (Flate inside Flate) with PARSE_MEMORY, at the thread’s buffer cap; the pool parses the next file', async () => {
    const bomb = await flateBombPdf(INFLATED, { nested: true });
    const { result, grownBytes } = await rssGrowth(() => parse(bomb));
    expect(result.status).toBe('rejected');
    expect((result as PromiseRejectedResult).reason).toMatchObject({ code: 'PARSE_MEMORY' });
    expect(grownBytes).toBeLessThan(INFLATED / 4);
    expect((await parse(threePagePdf())).pages).toHaveLength(3);
    expect(pool.threads).toBe(1);
  });
});
