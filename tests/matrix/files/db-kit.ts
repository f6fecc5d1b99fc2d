import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Room, User } from '../../../src/db/entities';
import { migrateUp, openOrm, type Orm } from '../../../src/db/orm';
import { createTestDatabase } from '../../helpers/services';
import { testDb } from '../../helpers/test-app';

/** A migrated database of the matrix's kind (a fresh PostgreSQL database, or PGlite in a temp dir) and a data dir. */
export async function openTestOrm(): Promise<{ orm: Orm; dataDir: string; databaseUrl?: string; close(): Promise<void> }> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'pantheon-files-'));
  const db = testDb() === 'postgres' ? await createTestDatabase() : undefined;
  const orm = await openOrm({ databaseUrl: db?.url, dataDir, databasePoolMax: 4 });
  await migrateUp(orm);
  return {
    orm,
    dataDir,
    databaseUrl: db?.url,
    async close() {
      await orm.close(true);
      await db?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A user and a room of their own, so tests do not see each other's files. */
export async function newRoom(orm: Orm): Promise<{ userId: string; roomId: string }> {
  const em = orm.em.fork();
  const user = em.create(User, { sub: `u-${Math.random().toString(36).slice(2)}`, displayName: 'Uploader' });
  const room = em.create(Room, { name: 'files', settings: {}, createdBy: user });
  await em.flush();
  return { userId: user.id, roomId: room.id };
}
