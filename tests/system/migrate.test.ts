import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/services';
import { cleanEnv, runNpm } from '../helpers/process';

// The migration commands as a user runs them, against a fresh PostgreSQL database.
describe('npm run migrate / migration:create', () => {
  let drop: (() => Promise<void>) | undefined;
  afterAll(async () => drop?.());

  it('applies the chain once, then finds nothing to apply and no difference to write', async () => {
    const db = await createTestDatabase();
    drop = db.drop;
    const env = cleanEnv({ DATABASE_URL: db.url, JWT_SECRET: 'migrate-test-secret-0123456789abcdef' });
    const first = await runNpm(['run', '-s', 'migrate'], env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/applied: Migration\d+_initial/);
    const second = await runNpm(['run', '-s', 'migrate'], env);
    expect(second.stdout).toContain('database is up to date');
    const create = await runNpm(['run', '-s', 'migration:create', '--', '--name', 'nothing'], env);
    expect(create.code, create.stderr).toBe(0);
    expect(create.stdout).toContain('no changes: entities match the migrations');
  }, 120_000);
});
