import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TARGET_KEYS } from '../../bench/report';
import { cleanEnv, runNpm } from '../helpers/process';
import { ADMIN_DATABASE_URL, TEST_REDIS_URL } from '../helpers/services';

interface QuickResult {
  config: { quick: boolean; clientProcs: number; pairs: number; fanout: number[]; smallRoom: number; bigRoom: number };
  figures: { key: string; pantheon: number; baseline: number; target?: { value: number }; met?: boolean | null }[];
  markdown: string;
  details: {
    clientProcs: { pid: number; clockOffsetMs: number }[];
    pairs: { realtime: { first: string; pantheonStream: { joinSmall: { joins: number }; fanout: { small: { clients: number }; large: { clients: number } } } }; scaled: { first: string } }[];
  };
}

// `npm run bench -- --quick` as CI runs it: every part, small, to the end; the figures mean little,
// but a bench that no longer runs (or no longer measures a figure) fails here.
describe('npm run bench -- --quick', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pantheon-bench-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs every part with clients in two processes and measures every figure of the table, targets included', async () => {
    const out = path.join(dir, 'quick.json');
    const env = cleanEnv({ BENCH_OUT: out, TEST_ADMIN_DATABASE_URL: ADMIN_DATABASE_URL, REDIS_URL: TEST_REDIS_URL });
    const run = await runNpm(['run', '-s', 'bench', '--', '--quick'], env);
    expect(run.code, run.stderr.slice(-2000)).toBe(0);
    expect(run.stdout).toMatch(/^figure\s+unit\s+pantheon\s+baseline\s+ratio\s+pairs spread\s+target\s+met/m);
    expect(run.stdout).toMatch(/^database: PGlite/m);
    const result = JSON.parse(readFileSync(out, 'utf8')) as QuickResult;
    expect(result.config.quick).toBe(true);
    expect(result.markdown).toMatch(/^Database: PGlite/);

    // The clients ran in two processes of their own, on the bench's clock.
    expect(result.config.clientProcs).toBe(2);
    expect(result.details.clientProcs).toHaveLength(2);
    const pids = result.details.clientProcs.map((c) => c.pid);
    expect(new Set(pids).size).toBe(2);
    for (const c of result.details.clientProcs) expect(Number.isFinite(c.clockOffsetMs)).toBe(true);

    // Joins into small rooms and a large one, fan-out at both sizes, Pantheon first in the first pair.
    const pair = result.details.pairs[0]!;
    expect(pair.realtime.first).toBe('pantheon');
    expect(pair.scaled.first).toBe('pantheon');
    expect(pair.realtime.pantheonStream.joinSmall.joins).toBeGreaterThan(0);
    expect([pair.realtime.pantheonStream.fanout.small.clients, pair.realtime.pantheonStream.fanout.large.clients]).toEqual(result.config.fanout);

    // Every figure of the table is a number on both sides; every target figure is there and judged.
    const keys = result.figures.map((f) => f.key);
    for (const key of [...TARGET_KEYS, 'joinCpuSmall', 'joinCpuLarge', 'framesPerSecSmall', 'framesPerSecLarge', 'tokenLatencyP50Stream', 'scaledFramesPerSec']) {
      expect(keys, key).toContain(key);
    }
    for (const f of result.figures) {
      expect(Number.isFinite(f.pantheon), `${f.key} (pantheon)`).toBe(true);
      expect(Number.isFinite(f.baseline), `${f.key} (baseline)`).toBe(true);
    }
    for (const key of TARGET_KEYS) {
      const f = result.figures.find((x) => x.key === key)!;
      expect(f.target, key).toBeDefined();
      expect(f.met === true || f.met === false || f.met === null, key).toBe(true);
    }
    // The turn overhead targets are stated for PostgreSQL: on PGlite they are shown, not judged.
    expect(result.figures.find((f) => f.key === 'turnOverheadP50')!.met).toBeNull();
  }, 300_000);
});
