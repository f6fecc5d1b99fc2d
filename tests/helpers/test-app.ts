import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApp, type App, type AppOptions } from '../../src/app';
import { signToken } from '../../src/auth/jwt';
import { loadConfig } from '../../src/config/config';
import { createTestDatabase, TEST_REDIS_URL, uniqueRedisPrefix } from './services';

export const TEST_JWT_SECRET = 'test-secret-0123456789-abcdefghijklmnop';

export type TestDb = 'postgres' | 'pglite';
export const testDb = (): TestDb => (process.env.TEST_DB === 'pglite' ? 'pglite' : 'postgres');

export interface TestApp extends App {
  token(sub: string, opts?: { name?: string; bot?: boolean; expiresInSeconds?: number }): string;
  /** fetch against /api/v1 with a bearer token; JSON bodies are serialized. */
  api(token: string | undefined, method: string, pathname: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
  databaseUrl?: string;
}

export interface TestAppOptions {
  db?: TestDb;
  redis?: boolean;
  /** Share one database between several nodes (scaled tests). */
  databaseUrl?: string;
  dataDir?: string;
  redisKeyPrefix?: string;
  env?: Record<string, string>;
  turnProbes?: AppOptions['turnProbes'];
  /** Where the app's logger writes (with LOG_LEVEL from `env`, else TEST_LOG_LEVEL or silent). */
  logDestination?: AppOptions['logDestination'];
  /** The clock daily budgets are counted in (a test moves it to the next day). */
  clock?: AppOptions['clock'];
}

/**
 * Starts the app through the composition root on port 0, on a fresh PostgreSQL database or a
 * fresh PGlite directory, with its own Redis key prefix when Redis is used.
 */
export async function startTestApp(opts: TestAppOptions = {}): Promise<TestApp> {
  const db = opts.db ?? testDb();
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'pantheon-test-'));
  const ownDataDir = !opts.dataDir;
  let dropDb: (() => Promise<void>) | undefined;
  let databaseUrl = opts.databaseUrl;
  if (db === 'postgres' && !databaseUrl) {
    const created = await createTestDatabase();
    databaseUrl = created.url;
    dropDb = created.drop;
  }
  const env: Record<string, string> = {
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    JWT_SECRET: TEST_JWT_SECRET,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    // Closing a test app cancels its running turns at once, unless a test asks for a grace period.
    SHUTDOWN_GRACE_MS: '0',
    ...(databaseUrl && db === 'postgres' ? { DATABASE_URL: databaseUrl } : {}),
    ...(opts.redis ? { REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: opts.redisKeyPrefix ?? uniqueRedisPrefix() } : {}),
    ...opts.env,
  };
  const config = loadConfig(env);
  const app = await createApp(config, { turnProbes: opts.turnProbes, logDestination: opts.logDestination, clock: opts.clock });
  const baseClose = app.close;
  return {
    ...app,
    ...remoteApp(app.url, { secret: config.jwt.secret ?? TEST_JWT_SECRET, issuer: config.jwt.issuer, audience: config.jwt.audience }),
    databaseUrl,
    async close() {
      await baseClose();
      if (dropDb) await dropDb();
      if (ownDataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** What a test needs of a server it did not start itself (a child process): its URL, tokens, REST calls. */
export type ServerHandle = Pick<TestApp, 'url' | 'token' | 'api'>;

/** A server at `url` that accepts tokens signed with `jwt.secret` (and its issuer and audience, when set). */
export function remoteApp(url: string, jwt: { secret: string; issuer?: string; audience?: string } = { secret: TEST_JWT_SECRET }): ServerHandle {
  return {
    url,
    token(sub, t = {}) {
      return signToken(
        jwt.secret,
        { sub, name: t.name, kind: t.bot ? 'bot' : 'human' },
        { issuer: jwt.issuer, audience: jwt.audience, expiresInSeconds: t.expiresInSeconds },
      );
    },
    async api(token, method, pathname, body, headers = {}) {
      const res = await fetch(`${url}/api/v1${pathname}`, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body !== undefined && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        /* non-JSON answer stays text */
      }
      return { status: res.status, body: parsed };
    },
  };
}

/**
 * Two nodes of one scaled deployment: node A on a fresh PostgreSQL database, node B on the same
 * database, both on one Redis key prefix of their own. The caller closes them (B, then A).
 */
export async function startTwoNodes(opts: { env?: Record<string, string>; redisKeyPrefix?: string } = {}): Promise<{ a: TestApp; b: TestApp; redisKeyPrefix: string }> {
  const redisKeyPrefix = opts.redisKeyPrefix ?? uniqueRedisPrefix();
  const common = { db: 'postgres' as const, redis: true, redisKeyPrefix, ...(opts.env ? { env: opts.env } : {}) };
  const a = await startTestApp(common);
  try {
    return { a, b: await startTestApp({ ...common, databaseUrl: a.databaseUrl }), redisKeyPrefix };
  } catch (err) {
    await a.close();
    throw err;
  }
}
