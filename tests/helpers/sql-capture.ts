import type { Orm } from '../../src/db/orm';

/** One statement the ORM sent, as its logger saw it. */
export interface CapturedSql {
  /** The statement with its parameters written in (what EXPLAIN can run). */
  sql: string;
  /** begin / commit / rollback / savepoint statements carry no parameters. */
  kind: 'select' | 'insert' | 'update' | 'delete' | 'transaction' | 'other';
}

const kindOf = (sql: string): CapturedSql['kind'] => {
  const head = sql.trimStart().slice(0, 20).toLowerCase();
  if (/^(begin|start transaction|commit|rollback|savepoint|release savepoint)/.test(head)) return 'transaction';
  for (const k of ['select', 'insert', 'update', 'delete'] as const) if (head.startsWith(k)) return k;
  if (head.startsWith('with')) return 'select';
  return 'other';
};

/**
 * Records every statement the app's ORM sends, through the logger every connection reports to
 * (queries, and the begin/commit of each transaction). `stop()` detaches it.
 */
export function captureSql(orm: Orm): { statements: CapturedSql[]; clear(): void; stop(): void } {
  const logger = orm.config.getLogger() as unknown as { logQuery(ctx: { query: string; formatted?: string; level?: string }): void };
  const original = logger.logQuery;
  const statements: CapturedSql[] = [];
  logger.logQuery = function (ctx) {
    // A failed statement is logged a second time with level 'error'; count each statement once.
    if (ctx.level !== 'error') {
      const sql = ctx.formatted ?? ctx.query;
      statements.push({ sql, kind: kindOf(sql) });
    }
    return original.call(this, ctx);
  };
  return {
    statements,
    clear: () => void statements.splice(0),
    stop: () => {
      logger.logQuery = original;
    },
  };
}
