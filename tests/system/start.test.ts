import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/services';
import { cleanEnv, runNpm, spawnNpm, LISTENING } from '../helpers/process';

// `npm start` and `npm run token` as a user runs them: a clean environment, then a restart.

async function startServer(env: Record<string, string>) {
  const proc = spawnNpm(['start'], cleanEnv({ PORT: '0', ...env }));
  const [, url] = await proc.waitFor(LISTENING);
  return { proc, url: url! };
}

async function token(env: Record<string, string>, sub: string) {
  const r = await runNpm(['run', '-s', 'token', '--', '--sub', sub, '--name', 'Alice'], cleanEnv(env));
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim();
}

const get = (url: string, p: string, t?: string) => fetch(url + p, { headers: t ? { authorization: `Bearer ${t}` } : {} });

describe.each([
  ['embedded PGlite', false],
  ['PostgreSQL', true],
] as const)('npm start on %s', (_name, usePostgres) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'pantheon-start-'));
  let dropDb: (() => Promise<void>) | undefined;
  afterAll(async () => {
    rmSync(dataDir, { recursive: true, force: true });
    await dropDb?.();
  });

  it('serves health and rooms with a token from npm run token, and keeps rooms across a restart', async () => {
    const env: Record<string, string> = { DATA_DIR: dataDir };
    if (usePostgres) {
      const db = await createTestDatabase();
      dropDb = db.drop;
      env.DATABASE_URL = db.url;
      env.JWT_SECRET = 'start-test-secret-0123456789abcdefghij';
    }
    let { proc, url } = await startServer(env);
    try {
      const health = await get(url, '/api/v1/health');
      expect(health.status).toBe(200);
      const t = await token(env, 'alice');
      const created = await fetch(url + '/api/v1/rooms', {
        method: 'POST',
        headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Survives restarts' }),
      });
      expect(created.status).toBe(201);
      await proc.stop('SIGTERM');
      expect(proc.output()).toContain('"msg":"shutting down"');

      ({ proc, url } = await startServer(env));
      const rooms = await get(url, '/api/v1/rooms', t);
      expect(rooms.status).toBe(200);
      const body = (await rooms.json()) as { items: { name: string }[] };
      expect(body.items.map((r) => r.name)).toEqual(['Survives restarts']);
    } finally {
      await proc.stop('SIGKILL');
    }
  }, 120_000);
});

describe('configuration errors', () => {
  it('stops start-up with a message naming the bad variable', async () => {
    const r = await runNpm(['start'], cleanEnv({ PORT: 'eighty', DATABASE_URL: 'mysql://x' }));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('PORT');
    expect(r.stderr).toContain('DATABASE_URL');
  }, 60_000);
});
