import path from 'node:path';
import { mkdirSync } from 'node:fs';
import type { Options } from '@mikro-orm/core';
import { Migrator } from '@mikro-orm/migrations';
import { MikroORM as PgORM, type EntityManager as PgEntityManager } from '@mikro-orm/postgresql';
import { MikroORM as PgliteORM } from '@mikro-orm/pglite';
import type { AppConfig } from '../config/config';
import { ALL_ENTITIES } from './entities';
import { releaseDroppedConnections } from './release-dropped-connections';

/** The entity manager type the services use; PostgreSQL and PGlite share the PostgreSQL dialect. */
export type Em = PgEntityManager;
export type Orm = PgORM;

export const MIGRATIONS_DIR = path.resolve(import.meta.dirname, '../../migrations');

export function ormOptions(config: Pick<AppConfig, 'databaseUrl' | 'dataDir' | 'databasePoolMax'>): Partial<Options> {
  const common = {
    entities: ALL_ENTITIES,
    extensions: [Migrator],
    migrations: {
      path: MIGRATIONS_DIR,
      pathTs: MIGRATIONS_DIR,
      tableName: 'mikro_orm_migrations',
      transactional: true,
      allOrNothing: true,
      // The chain in migrations/ is the truth; never write a snapshot next to it at run time.
      snapshot: false,
      emit: 'ts' as const,
      silent: true,
    },
    debug: false,
    allowGlobalContext: false,
    forceUtcTimezone: true,
    // SQL functions (file_search_text, for full-text search) are written by hand in migrations/.
    schemaGenerator: { ignoreRoutines: true },
  };
  if (config.databaseUrl) {
    return {
      ...common,
      clientUrl: config.databaseUrl,
      pool: { max: config.databasePoolMax },
      driverOptions: { onPoolCreated: releaseDroppedConnections },
    } as Partial<Options>;
  }
  const dir = path.join(config.dataDir, 'db');
  mkdirSync(dir, { recursive: true });
  return { ...common, dbName: dir } as Partial<Options>;
}

/** Opens the database the config names: PostgreSQL when DATABASE_URL is set, else embedded PGlite. */
export async function openOrm(config: Pick<AppConfig, 'databaseUrl' | 'dataDir' | 'databasePoolMax'>): Promise<Orm> {
  const options = ormOptions(config);
  if (config.databaseUrl) return (await PgORM.init(options as never)) as Orm;
  // PGlite speaks the PostgreSQL dialect; services use the same EntityManager API on both.
  return (await PgliteORM.init(options as never)) as unknown as Orm;
}

export async function migrateUp(orm: Orm): Promise<string[]> {
  const done = await orm.migrator.up();
  return done.map((m) => m.name);
}
