import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../src/app';
import { loadConfig } from '../../../src/config/config';
import type { Logger } from '../../../src/shared/logger';
import { startTestApp, type TestApp } from '../../helpers/test-app';

// The web room's page and files at `/` beside the API, and the dev login that signs in by name:
// present only when asked for, with the embedded secret, outside production.
const webDir = mkdtempSync(path.join(os.tmpdir(), 'pantheon-web-'));
mkdirSync(path.join(webDir, 'assets'));
writeFileSync(path.join(webDir, 'index.html'), '<!doctype html><title>Pantheon</title><div id="app"></div>');
writeFileSync(path.join(webDir, 'assets/index-abc123.js'), 'console.log(1)');
afterAll(() => rmSync(webDir, { recursive: true, force: true }));

const devLogin = (url: string, body: unknown) =>
  fetch(`${url}/api/v1/auth/dev-login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('dev login, embedded with DEV_LOGIN=true', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ db: 'pglite', env: { JWT_SECRET: '', DEV_LOGIN: 'true', WEB_DIR: webDir } });
  });
  afterAll(() => app?.close());

  it('gives a token for a name, the same user for the same name, that the API accepts', async () => {
    const res = await devLogin(app.url, { name: '  Ada Lovelace ' });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { token: string; sub: string; displayName: string };
    expect(body).toMatchObject({ sub: 'dev:ada-lovelace', displayName: 'Ada Lovelace' });
    const me = await app.api(body.token, 'GET', '/auth/me');
    expect(me.status).toBe(200);
    expect(me.body.user).toMatchObject({ sub: 'dev:ada-lovelace', displayName: 'Ada Lovelace', kind: 'human' });
    const again = (await (await devLogin(app.url, { name: 'ada  lovelace' })).json()) as { token: string };
    expect((await app.api(again.token, 'GET', '/auth/me')).body.user.id).toBe(me.body.user.id);
  });

  it('refuses a bad name with VALIDATION_FAILED and unknown keys', async () => {
    for (const bad of [{}, { name: '' }, { name: 'x'.repeat(61) }, { name: 'a\u0007b' }, { name: 'Ann', kind: 'bot' }]) {
      const res = await devLogin(app.url, bad);
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('VALIDATION_FAILED');
    }
  });

  it('serves the web page at / and at any page address, its assets, and keeps unknown API paths JSON 404s', async () => {
    const home = await fetch(`${app.url}/`);
    expect(home.status).toBe(200);
    expect(home.headers.get('content-type')).toMatch(/text\/html/);
    expect(home.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await home.text()).toContain('<div id="app">');
    const deep = await fetch(`${app.url}/rooms/5b0c1f5e-0000-4000-8000-000000000000`, { headers: { accept: 'text/html' } });
    expect(deep.status).toBe(200);
    expect(await deep.text()).toContain('<div id="app">');
    const asset = await fetch(`${app.url}/assets/index-abc123.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect((await fetch(`${app.url}/assets/missing.js`)).status).toBe(404);
    const { token } = (await (await devLogin(app.url, { name: 'Ada' })).json()) as { token: string };
    for (const p of ['/api/v1/no-such-thing', '/api/v2/rooms']) {
      const api = await fetch(`${app.url}${p}`, { headers: { accept: 'text/html', authorization: `Bearer ${token}` } });
      expect(api.status, p).toBe(404);
      expect(((await api.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
    }
    // The API itself is unchanged.
    expect((await fetch(`${app.url}/api/v1/health`)).status).toBe(200);
  });
});

describe('dev login refused', () => {
  const warnings: { msg: string; fields?: Record<string, unknown> }[] = [];
  const logger: Logger = {
    debug: () => {},
    info: () => {},
    error: () => {},
    warn: (msg, fields) => void warnings.push({ msg, fields }),
    child: () => logger,
  };

  it.each([
    ['a JWT_SECRET is configured', { JWT_SECRET: 'a-real-secret-0123456789-abcdefghijklmnop' }, 'a JWT_SECRET or JWT_PUBLIC_KEY is configured'],
    ['NODE_ENV is production', { NODE_ENV: 'production' }, 'NODE_ENV is production'],
  ])('when %s: the route does not exist and start-up warns', async (_name, extra, reason) => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'pantheon-devlogin-'));
    warnings.length = 0;
    const app = await createApp(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, DEV_LOGIN: 'true', WEB_DIR: webDir, SHUTDOWN_GRACE_MS: '0', ...extra }), { logger });
    try {
      const res = await devLogin(app.url, { name: 'Mallory' });
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
      expect(warnings).toContainEqual({ msg: 'DEV_LOGIN is ignored', fields: { reason } });
    } finally {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('is off by default', async () => {
    const app = await startTestApp({ db: 'pglite', env: { JWT_SECRET: '', WEB_DIR: webDir } });
    try {
      expect((await devLogin(app.url, { name: 'Eve' })).status).toBe(404);
    } finally {
      await app.close();
    }
  });
});
