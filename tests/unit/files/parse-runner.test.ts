import { describe, expect, it } from 'vitest';
import { runParse } from '../../../src/files/parsing/parse-runner';
import { csvWithRows, sampleDocx, threePagePdf } from '../../helpers/file-fixtures';

const LIMITS = { timeoutMs: 20_000, memoryMb: 128 };

describe('runParse (real parsers in a worker thread)', () => {
  it('parses a PDF off the main thread, reporting progress up to 1', async () => {
    const progress: number[] = [];
    const content = await runParse('pdf', threePagePdf(), { ...LIMITS, onProgress: (f) => progress.push(f) });
    expect(content.pages?.map((p) => p.page)).toEqual([1, 2, 3]);
    expect(content.pages?.[2]?.text).toContain('cherries');
    expect(progress.at(-1)).toBe(1);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
  });

  it('parses a DOCX and leaves the caller’s bytes usable', async () => {
    const bytes = sampleDocx();
    const content = await runParse('docx', bytes, LIMITS);
    expect(content.pages?.[0]?.text).toContain('# Quarterly Report');
    expect(bytes.length).toBeGreaterThan(0); // only a copy was moved to the thread
  });

  it('applies the parse limits it is given inside the thread', async () => {
    await expect(runParse('csv', csvWithRows(11), { ...LIMITS, limits: { csvMaxRows: 10 } })).rejects.toMatchObject({ code: 'CSV_TOO_MANY_ROWS' });
  });

  it('fails with PARSE_TIMEOUT when the time limit is shorter than the parse', async () => {
    await expect(runParse('pdf', threePagePdf(), { timeoutMs: 1, memoryMb: 128 })).rejects.toMatchObject({ code: 'PARSE_TIMEOUT' });
  });
});
