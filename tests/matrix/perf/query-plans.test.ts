import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../../helpers/fake-openai';
import { TestClient } from '../../helpers/socket-client';
import { captureSql, type CapturedSql } from '../../helpers/sql-capture';
import { startTestApp, testDb, type TestApp } from '../../helpers/test-app';
import { answerAs, fakeModelsEnv, send, setupRoom, turnEnd } from '../../helpers/turn-kit';

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  Plans?: PlanNode[];
}

/**
 * Partial indexes whose size does not grow with their table: `turns_one_running_per_session` holds
 * only running turns (at most one per session), so walking all of it is as cheap as a lookup.
 */
const BOUNDED = new Set(['turns_one_running_per_session']);

/** Scans that read a whole table (or a whole index): what a growing table makes slow. */
function fullScans(node: PlanNode, out: string[] = []): string[] {
  const rel = node['Relation Name'];
  if (rel && node['Node Type'] === 'Seq Scan') out.push(`Seq Scan on ${rel}`);
  if (rel && /^Index( Only)? Scan$/.test(node['Node Type']) && !node['Index Cond'] && !BOUNDED.has(node['Index Name'] ?? '')) out.push(`full ${node['Node Type']} of ${node['Index Name']} on ${rel}`);
  for (const child of node.Plans ?? []) fullScans(child, out);
  return out;
}

const explainable = (s: CapturedSql) => (s.kind === 'select' || s.kind === 'update' || s.kind === 'delete') && /\bfrom\b|\bupdate\b/i.test(s.sql);

// Every query of the hot path (a join's snapshot, a message's intake, the claim, the turn's reads
// and commit, a history page) as the server sent it, explained with sequential scans priced out
// (`enable_seqscan = off`): a query that still reads a whole table, or walks a whole index, has no
// index to use and grows with the table (the recent-messages query of a join once took 18.8 ms
// at 200k messages). Runs on PGlite too: it is PostgreSQL, and plans the same way.
describe(`query plans of the hot path on ${testDb()}`, () => {
  let fake: FakeOpenAI;
  let app: TestApp;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    fake.setResponder(answerAs());
    app = await startTestApp({ env: fakeModelsEnv(fake) });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await app?.close();
    await fake?.close();
  });

  it('uses an index for every table read of a join, a turn and a history page', async () => {
    const room = await setupRoom(app, { mode: 'manual', agents: [{ key: 'writer', name: 'Writer' }] });
    clients.push(room.client);
    const warm = await send(room.client, room.roomId, room.sessionId, '@writer first');
    await turnEnd(room.client, warm.turnId);

    const capture = captureSql(app.orm);
    try {
      // A second member joins (a snapshot), a message runs its turn, and history is paged.
      const guest = app.token(`guest-${Math.random().toString(36).slice(2, 8)}`, { name: 'Gus' });
      const owner = room.owner;
      const added = await app.api(owner, 'POST', `/rooms/${room.roomId}/members`, { sub: JSON.parse(Buffer.from(guest.split('.')[1]!, 'base64url').toString()).sub });
      expect(added.status).toBe(201);
      const other = new TestClient(app.url, guest);
      clients.push(other);
      await other.connected();
      const joined = await other.request('room:join', { roomId: room.roomId });
      expect(joined.ok).toBe(true);
      expect(joined.mode).toBe('snapshot');
      const sent = await send(room.client, room.roomId, room.sessionId, '@writer second');
      await turnEnd(room.client, sent.turnId);
      const page = await app.api(owner, 'GET', `/sessions/${room.sessionId}/messages?limit=2`);
      expect(page.status).toBe(200);
      const older = await app.api(owner, 'GET', `/sessions/${room.sessionId}/messages?limit=2&before=${page.body.nextCursor}`);
      expect(older.status).toBe(200);
    } finally {
      capture.stop();
    }

    const queries = [...new Map(capture.statements.filter(explainable).map((s) => [s.sql, s])).values()];
    // The capture holds the hot path: the snapshot's messages of the room, the claim, the commit's
    // conditional update of the turn.
    expect(queries.some((q) => /from "messages".*"room_id" =/s.test(q.sql))).toBe(true);
    expect(queries.some((q) => /update "turns" set "status" = 'running'/.test(q.sql))).toBe(true);
    expect(queries.some((q) => /update "turns" set "status" = 'completed'.*and "status" = 'running'/s.test(q.sql))).toBe(true);

    const problems: string[] = [];
    for (const q of queries) {
      const plan = await app.orm.em.fork().transactional(async (tx) => {
        const conn = tx.getConnection();
        const trx = tx.getTransactionContext();
        await conn.execute('set local enable_seqscan = off', [], 'run', trx);
        const rows = await conn.execute<{ 'QUERY PLAN': [{ Plan: PlanNode }] | string }[]>(`explain (format json) ${q.sql}`, [], 'all', trx);
        const raw = rows[0]!['QUERY PLAN'];
        return (typeof raw === 'string' ? JSON.parse(raw) : raw)[0].Plan as PlanNode;
      });
      const scans = fullScans(plan);
      if (scans.length) problems.push(`${scans.join(', ')}: ${q.sql}`);
    }
    expect(problems).toEqual([]);
    expect(queries.length).toBeGreaterThan(10);
  });
});
