import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, testDb, type TestApp } from '../helpers/test-app';

describe(`entities and migrations agree on ${testDb()}`, () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app?.close());

  it('leaves no difference between the migrated schema and the entities', async () => {
    const diff = await app.orm.schema.getUpdateSchemaSQL({ wrap: false });
    expect(diff.trim()).toBe('');
  });

  it('has a database default for every default the entities declare', async () => {
    const rows = await app.orm.em
      .fork()
      .getConnection()
      .execute<{ table_name: string; column_name: string; column_default: string | null }[]>(
        `select table_name, column_name, column_default from information_schema.columns where table_schema = current_schema()`,
      );
    const dbDefaults = new Map(rows.map((r) => [`${r.table_name}.${r.column_name}`, r.column_default]));
    let checked = 0;
    for (const meta of app.orm.getMetadata().getAll().values()) {
      for (const prop of meta.props) {
        if (prop.default === undefined && prop.defaultRaw === undefined) continue;
        for (const field of prop.fieldNames ?? []) {
          checked++;
          expect(dbDefaults.get(`${meta.tableName}.${field}`), `${meta.tableName}.${field}`).toBeTruthy();
        }
      }
    }
    expect(checked).toBeGreaterThan(10);
  });

  it('points every user reference at users with a foreign key', async () => {
    const fks = await app.orm.em
      .fork()
      .getConnection()
      .execute<{ table_name: string; column_name: string }[]>(
        `select kcu.table_name, kcu.column_name
           from information_schema.table_constraints tc
           join information_schema.key_column_usage kcu on tc.constraint_name = kcu.constraint_name
           join information_schema.constraint_column_usage ccu on tc.constraint_name = ccu.constraint_name
          where tc.constraint_type = 'FOREIGN KEY' and ccu.table_name = 'users' and tc.table_schema = current_schema()`,
      );
    const got = new Set(fks.map((f) => `${f.table_name}.${f.column_name}`));
    for (const col of [
      'rooms.created_by_id',
      'room_members.user_id',
      'sessions.created_by_id',
      'turns.requested_by_id',
      'messages.author_user_id',
      'llm_usage_events.user_id',
      'tool_call_events.user_id',
      'files.uploaded_by_id',
    ]) {
      expect(got.has(col), col).toBe(true);
    }
  });

  it('uses uuid for every id and id reference', async () => {
    const cols = await app.orm.em
      .fork()
      .getConnection()
      .execute<{ table_name: string; column_name: string; data_type: string }[]>(
        `select table_name, column_name, data_type from information_schema.columns
          where table_schema = current_schema() and (column_name = 'id' or column_name like '%\\_id' escape '\\')
            and table_name <> 'mikro_orm_migrations' and column_name not in ('tool_call_id', 'client_msg_id')`,
      );
    expect(cols.length).toBeGreaterThan(20);
    for (const c of cols) expect(c.data_type, `${c.table_name}.${c.column_name}`).toBe('uuid');
  });
});
