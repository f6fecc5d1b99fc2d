import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanEnv, runNpm } from '../helpers/process';
import { ADMIN_DATABASE_URL, TEST_REDIS_URL } from '../helpers/services';

// `npm run bench -- --quick` as CI runs it: every part, small, to the end; the figures mean little,
// but a bench that no longer runs (or no longer measures a figure) fails here.
describe('npm run bench -- --quick', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pantheon-bench-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs every part and prints the table with each figure beside its baseline', async () => {
    const out = path.join(dir, 'quick.json');
    const env = cleanEnv({ BENCH_OUT: out, TEST_ADMIN_DATABASE_URL: ADMIN_DATABASE_URL, REDIS_URL: TEST_REDIS_URL });
    const run = await runNpm(['run', '-s', 'bench', '--', '--quick'], env);
    expect(run.code, run.stderr.slice(-2000)).toBe(0);
    expect(run.stdout).toMatch(/^figure\s+unit\s+pantheon\s+baseline\s+ratio/m);
    const result = JSON.parse(readFileSync(out, 'utf8')) as { config: { quick: boolean }; figures: { key: string; pantheon: number; baseline: number }[] };
    expect(result.config.quick).toBe(true);
    const keys = result.figures.map((f) => f.key);
    for (const key of ['framesPerSec', 'serverCpuPerFrame', 'tokenLatencyP99Stream', 'turnOverheadP50', 'heapPerConn', 'rssPerConn', 'joinsPerSec', 'scaledServerCpuPerFrame', 'parseMBps', 'parseOnePageMs']) {
      expect(keys, key).toContain(key);
    }
    for (const f of result.figures) expect(Number.isFinite(f.baseline), f.key).toBe(true);
  }, 600_000);
});
