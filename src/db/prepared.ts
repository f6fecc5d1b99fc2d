import { PostgreSqlConnection } from '@mikro-orm/postgresql';
import type { Pool, QueryResult } from 'pg';
import type { Orm } from './orm';

/**
 * A statement of the turn path, sent as a named prepared statement on PostgreSQL. The ORM writes
 * parameters into the SQL text, so the server parses and plans every statement anew: for the
 * claim with its context that is about 1 ms of planning, more than it takes to run. A prepared
 * statement is parsed once per connection, and PostgreSQL keeps its plan once a generic plan is
 * no worse (`plan_cache_mode = auto`). PGlite runs in this process: there the statement goes
 * through the ORM as any other.
 *
 * Parameters are `?` as elsewhere (no `?` may appear in the SQL otherwise). The statement is
 * reported to the ORM's logger like the ORM's own, with its parameters, and `formatted` (the SQL
 * with them written in) made when read, so debug logs and statement counts see it.
 */
export class PreparedStatement {
  private readonly text: string;
  private readonly count: number;

  constructor(
    /** Unique per statement: the name it is prepared under on each connection. */
    readonly name: string,
    readonly sql: string,
  ) {
    let n = 0;
    this.text = sql.replace(/\?/g, () => `$${++n}`);
    this.count = n;
  }

  async run<T>(orm: Orm, params: readonly unknown[]): Promise<T[]> {
    if (params.length !== this.count) throw new Error(`statement ${this.name} takes ${this.count} parameters, not ${params.length}`);
    const connection = orm.em.getConnection();
    // PGlite's connection shares the PostgreSQL dialect (and its type) but not the `pg` pool.
    const onPg = (connection as object) instanceof PostgreSqlConnection;
    if (!onPg) return connection.execute<T[]>(this.sql, [...params]);
    const pool = (await connection.getNativeClient()) as Pool;
    const started = performance.now();
    let result: QueryResult | undefined;
    try {
      result = await pool.query({ name: this.name, text: this.text, values: [...params] });
      return result.rows as T[];
    } finally {
      const sql = this.sql;
      orm.config.getLogger().logQuery({
        level: result ? 'info' : 'error',
        query: sql,
        took: Math.round(performance.now() - started),
        params: [...params],
        // Written out only when read (a statement counter, EXPLAIN): not for every statement.
        get formatted() {
          return connection.getPlatform().formatQuery(sql, [...params]);
        },
        ...(result ? { results: result.rowCount ?? 0 } : {}),
      });
    }
  }
}
