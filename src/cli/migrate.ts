// `npm run migrate` applies pending migrations; `npm run migration:create [-- --name x]` writes a new
// one from the difference between the entities and the database the config names.
import { ConfigError, loadConfig } from '../config/config';
import { migrateUp, openOrm } from '../db/orm';

async function main() {
  const [command, ...rest] = process.argv.slice(2);
  const config = loadConfig(process.env);
  const orm = await openOrm(config);
  try {
    if (command === 'up') {
      const done = await migrateUp(orm);
      console.log(done.length ? `applied: ${done.join(', ')}` : 'database is up to date');
    } else if (command === 'create') {
      await migrateUp(orm);
      const nameIdx = rest.indexOf('--name');
      const name = nameIdx >= 0 ? rest[nameIdx + 1] : undefined;
      const blank = rest.includes('--blank');
      const result = await orm.migrator.create(undefined, blank, false, name);
      console.log(result.fileName ? `created migrations/${result.fileName}` : 'no changes: entities match the migrations');
    } else {
      console.error('usage: migrate.ts up | create [--name NAME] [--blank]');
      process.exitCode = 2;
    }
  } finally {
    await orm.close(true);
  }
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
