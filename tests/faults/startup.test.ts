import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config/config';
import { StartupError } from '../../src/infra/data-dir';
import { cleanEnv, REPO_ROOT, runNpm } from '../helpers/process';
import { TEST_JWT_SECRET } from '../helpers/test-app';

// Start-up that says what is wrong: an unreachable Redis, a DATA_DIR another server uses, a
// DATA_DIR that cannot be written. Each fails at once with a message naming the thing to fix.

const tmp = mkdtempSync(path.join(os.tmpdir(), 'pantheon-startup-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const embedded = (dataDir: string, extra: Record<string, string> = {}) =>
  loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, JWT_SECRET: TEST_JWT_SECRET, LOG_LEVEL: 'silent', ...extra });

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('start-up with an unreachable Redis', () => {
  it('fails at once naming the URL, without its password', async () => {
    const port = await closedPort();
    const url = `redis://:hunter2secret@127.0.0.1:${port}`;
    const err = await createApp(embedded(path.join(tmp, 'redis-down'), { REDIS_URL: url })).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StartupError);
    const message = (err as Error).message;
    expect(message).toContain(`127.0.0.1:${port}`);
    expect(message).toContain('REDIS_URL');
    expect(message).not.toContain('hunter2secret');
  }, 60_000);

  it('makes npm start exit with that message instead of retrying while nothing listens', async () => {
    const port = await closedPort();
    const r = await runNpm(['start'], cleanEnv({ PORT: '0', DATA_DIR: path.join(tmp, 'npm-redis-down'), REDIS_URL: `redis://127.0.0.1:${port}` }));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`Redis at redis://127.0.0.1:${port}`);
    expect(r.stdout).not.toContain('"msg":"listening"');
  }, 60_000);
});

describe('one embedded DATA_DIR, two servers', () => {
  it('refuses the second server while the first runs, and starts once it has stopped', async () => {
    const dir = path.join(tmp, 'shared');
    const first = await createApp(embedded(dir));
    try {
      const err = await createApp(embedded(dir)).then(
        (app) => app.close().then(() => null),
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(StartupError);
      expect((err as Error).message).toContain(`DATA_DIR ${dir} is in use by another Pantheon server (pid ${process.pid}`);
    } finally {
      await first.close();
    }
    const again = await createApp(embedded(dir));
    expect((await fetch(`${again.url}/api/v1/health`)).status).toBe(200);
    await again.close();
    // Three embedded starts (PGlite and migrations each): allow for a busy machine.
  }, 120_000);

  it('takes over the lock of a server that died', async () => {
    const dir = path.join(tmp, 'stale');
    const first = await createApp(embedded(dir));
    await first.close();
    // A process that has exited: its pid is free.
    const dead = spawnSync(process.execPath, ['-e', 'process.exit(0)']);
    expect(dead.status).toBe(0);
    writeFileSync(path.join(dir, 'pantheon.lock'), JSON.stringify({ pid: dead.pid, host: os.hostname(), since: '2026-01-01T00:00:00Z' }));
    const app = await createApp(embedded(dir));
    expect((await fetch(`${app.url}/api/v1/health`)).status).toBe(200);
    await app.close();
  }, 120_000);
});

describe('a DATA_DIR that cannot be used', () => {
  it('names the folder and the reason', async () => {
    const file = path.join(tmp, 'a-file');
    writeFileSync(file, 'not a folder');
    const dir = path.join(file, 'data');
    const err = await createApp(embedded(dir)).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StartupError);
    expect((err as Error).message).toContain(`DATA_DIR ${dir} cannot be used`);
  });

  it('names the permission when the server may not write there', async () => {
    // Root may write anywhere: the server runs as an unprivileged user (as in a container with a
    // volume owned by someone else) against a folder only root may write.
    const dir = path.join(tmp, 'root-only');
    mkdirSync(dir, { mode: 0o755 });
    const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
    if (!asRoot) chmodSync(dir, 0o555);
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: REPO_ROOT,
      env: cleanEnv({ PORT: '0', DATA_DIR: path.join(dir, 'data'), HOME: tmp }),
      ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(out).toContain(`DATA_DIR ${path.join(dir, 'data')} cannot be used: no permission to create or write it`);
  }, 60_000);

});
