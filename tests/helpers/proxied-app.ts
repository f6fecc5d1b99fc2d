import pg from 'pg';
import type { FakeOpenAI } from './fake-openai';
import { startPgProxy, type PgProxy } from './pg-proxy';
import { ADMIN_DATABASE_URL, createTestDatabase } from './services';
import { startTestApp, type TestApp } from './test-app';
import { fakeModelsEnv } from './turn-kit';

export interface ProxiedApp {
  app: TestApp;
  /** Between the app and PostgreSQL: the test resets its connections. */
  proxy: PgProxy;
  /** A connection of the test's own, straight to the database, to read what is stored. */
  direct: pg.Client;
  /** The stored status and outbox marks of a turn. */
  stored(turnId: string): Promise<{ status: string; queue_announced_at: Date | null; end_announced_at: Date | null }>;
  close(): Promise<void>;
}

/** A server on a fresh PostgreSQL database reached through a proxy the test controls, with Redis. */
export async function startProxiedApp(fake: FakeOpenAI, env: Record<string, string>): Promise<ProxiedApp> {
  const db = await createTestDatabase();
  const admin = new URL(ADMIN_DATABASE_URL);
  const proxy = await startPgProxy({ host: admin.hostname || '127.0.0.1', port: Number(admin.port) || 5432 });
  const direct = new pg.Client({ connectionString: db.url });
  await direct.connect();
  const app = await startTestApp({ db: 'postgres', databaseUrl: proxy.urlFor(db.url), redis: true, env: fakeModelsEnv(fake, env) });
  return {
    app,
    proxy,
    direct,
    async stored(turnId) {
      const rows = await direct.query('select status, queue_announced_at, end_announced_at from turns where id = $1', [turnId]);
      return rows.rows[0];
    },
    async close() {
      proxy.unblock();
      await app.close();
      await proxy.close();
      await direct.end();
      await db.drop();
    },
  };
}
