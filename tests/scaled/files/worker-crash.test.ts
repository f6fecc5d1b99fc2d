import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Room, StoredFile, User } from '../../../src/db/entities';
import { migrateUp, openOrm, type Orm } from '../../../src/db/orm';
import { BullMqJobQueue } from '../../../src/files/queue/bullmq-queue';
import { DiskFileStore } from '../../../src/files/upload/file-store';
import { registerUpload } from '../../../src/files/upload/register-upload';
import { createRedisBroadcaster, type RedisBroadcaster } from '../../../src/events/redis-broadcaster';
import { RoomEventRelay } from '../../../src/events/room-event-relay';
import { buildPdf } from '../../helpers/file-fixtures';
import { cleanEnv, spawnNpm, type Spawned } from '../../helpers/process';
import { createTestDatabase, TEST_REDIS_URL, uniqueRedisPrefix } from '../../helpers/services';
import { TEST_JWT_SECRET } from '../../helpers/test-app';
import { deleteRedisKeys } from './redis-cleanup';

const FILES = 20;
/** The file whose parse is running when the first worker is killed (1-based). */
const KILL_DURING = 4;

/** Resolves when `check` holds, re-checked on every room event; fails with `what` at the deadline. */
function waiter() {
  const waiters: { check: () => boolean; resolve: () => void }[] = [];
  return {
    notify() {
      for (const w of [...waiters]) if (w.check()) waiters.splice(waiters.indexOf(w), 1), w.resolve();
    },
    until(check: () => boolean, what: string, timeoutMs: number): Promise<void> {
      if (check()) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
        waiters.push({ check, resolve: () => (clearTimeout(timer), resolve()) });
      });
    },
  };
}

describe('file worker killed mid-parse', () => {
  const prefix = uniqueRedisPrefix();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'pantheon-worker-'));
  let drop: () => Promise<void>;
  let databaseUrl: string;
  let orm: Orm;
  let redis: Redis;
  let sub: Redis;
  let producer: BullMqJobQueue;
  let broadcaster: RedisBroadcaster;
  let unsubscribe: (() => Promise<void>) | undefined;
  const workers: Spawned[] = [];

  beforeAll(async () => {
    const db = await createTestDatabase();
    databaseUrl = db.url;
    drop = db.drop;
    orm = await openOrm({ databaseUrl, dataDir, databasePoolMax: 4 });
    await migrateUp(orm);
    redis = new Redis(TEST_REDIS_URL);
    sub = new Redis(TEST_REDIS_URL);
    for (const r of [redis, sub]) r.on('error', () => undefined); // failures surface through commands
    broadcaster = createRedisBroadcaster(redis, { keyPrefix: prefix, maxEvents: 5000, ttlSeconds: 600 });
    producer = new BullMqJobQueue({ redisUrl: TEST_REDIS_URL, keyPrefix: prefix });
  });

  afterAll(async () => {
    for (const w of workers) await w.stop('SIGKILL');
    await unsubscribe?.();
    await producer?.close();
    redis?.disconnect();
    sub?.disconnect();
    await orm?.close(true);
    await drop?.();
    await deleteRedisKeys(prefix);
    rmSync(dataDir, { recursive: true, force: true });
  });

  const startWorker = () => {
    const w = spawnNpm(
      ['run', 'worker'],
      cleanEnv({
        DATABASE_URL: databaseUrl,
        REDIS_URL: TEST_REDIS_URL,
        REDIS_KEY_PREFIX: prefix,
        DATA_DIR: dataDir,
        JWT_SECRET: TEST_JWT_SECRET,
        LOG_LEVEL: 'info',
        // One job at a time, so the kill lands in exactly one known parse; fast stalled-job detection.
        FILE_WORKER_CONCURRENCY: '1',
        FILE_QUEUE_LOCK_DURATION_MS: '1500',
        FILE_QUEUE_STALLED_INTERVAL_MS: '500',
      }),
    );
    workers.push(w);
    return w;
  };

  it('a second worker finishes all files; each is committed and announced once, only the interrupted one is parsed twice', async () => {
    const em = orm.em.fork();
    const user = em.create(User, { sub: 'crash-test', displayName: 'Crash Test' });
    const room = em.create(Room, { name: 'crash', settings: {}, createdBy: user });
    await em.flush();

    const parsingOrder: string[] = [];
    const ready = new Set<string>();
    const events = waiter();
    const relay = new RoomEventRelay(
      sub,
      prefix,
      broadcaster,
      (_roomId, event, data) => {
        const fileId = (data as { fileId?: string }).fileId;
        if (!fileId) return;
        if (event === 'file:progress' && (data as { stage?: string }).stage === 'reading') parsingOrder.push(fileId);
        if (event === 'file:ready') ready.add(fileId);
        events.notify();
      },
      () => [room.id],
      () => undefined,
    );
    await relay.start();
    unsubscribe = () => relay.stop();

    const store = DiskFileStore.forDataDir(dataDir);
    const ids: string[] = [];
    for (let i = 0; i < FILES; i++) {
      const bytes = buildPdf([[`Document ${i}`, `Body of document number ${i}`], [`Second page of ${i}`]]);
      const file = await registerUpload(
        { orm, store, queue: producer, broadcaster, limits: { uploadBytes: 1024 * 1024 } },
        { roomId: room.id, userId: user.id, filename: `doc-${i}.pdf`, bytes },
      );
      ids.push(file.id);
    }

    const first = startWorker();
    await events.until(() => parsingOrder.length >= KILL_DURING, `file ${KILL_DURING} to start parsing`, 60_000);
    await first.stop('SIGKILL');
    const interrupted = parsingOrder[KILL_DURING - 1]!;
    const afterKill = await orm.em.fork().find(StoredFile, { room: room.id });
    expect(afterKill.filter((f) => f.status === 'ready').length).toBe(KILL_DURING - 1);
    expect(afterKill.find((f) => f.id === interrupted)?.status).toBe('parsing');

    const second = startWorker();
    await events.until(() => ids.every((id) => ready.has(id)), 'every file to be ready', 90_000);

    const rows = await orm.em.fork().find(StoredFile, { room: room.id });
    expect(rows).toHaveLength(FILES);
    for (const row of rows) {
      expect(row.status).toBe('ready');
      expect(row.parsed?.pages?.[0]?.text).toContain(`Document ${ids.indexOf(row.id)}`);
      expect((row.meta as { parseAttempts?: number }).parseAttempts, row.filename).toBe(row.id === interrupted ? 2 : 1);
    }

    // The room's replay log holds every event the workers sent: one file:ready per file.
    const log = await broadcaster.since(room.id, 0);
    if (log.gap) throw new Error('replay log has a gap');
    const readyEvents = log.events.filter((e) => e.event === 'file:ready').map((e) => (e.data as { fileId: string }).fileId);
    expect(readyEvents.sort()).toEqual([...ids].sort());

    // SIGTERM is a graceful stop: the worker says so and exits cleanly.
    await second.stop('SIGTERM');
    expect(second.output()).toMatch(/file worker stopping/);
  });
});
