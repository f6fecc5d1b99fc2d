import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../../helpers/fake-openai';
import { TestClient } from '../../helpers/socket-client';
import { captureSql } from '../../helpers/sql-capture';
import { startTestApp, testDb, type TestApp } from '../../helpers/test-app';
import { answerAs, fakeModelsEnv, send, setupRoom, turnEnd, type RoomSetup } from '../../helpers/turn-kit';

// A join's snapshot carries the room's budget of the day. A room without a daily limit changes its
// ledger row only with spend that a `budget:updated` announces, so a node keeps that budget with
// the room's other snapshot parts and a join into a warm room does not read the ledger; any room
// event drops it. A room with a limit has holds that move without an event: its ledger is read on
// every join.

const LEDGER = /"budget_ledger"/i;

describe(`the budget in a join's snapshot on ${testDb()}`, () => {
  let fake: FakeOpenAI;
  let app: TestApp;
  const clients: TestClient[] = [];
  let n = 0;

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

  const roomSpent = async (roomId: string) => {
    const rows = await app.orm.em
      .fork()
      .getConnection()
      .execute<{ spent_tokens: string }[]>(`select "spent_tokens" from "budget_ledger" where "scope" = 'room' and "scope_id" = ?`, [roomId]);
    return Number(rows[0]?.spent_tokens ?? 0);
  };

  /** A new member of the room joins; resolves with the snapshot and the statements the join ran. */
  async function memberJoins(r: RoomSetup) {
    const sub = `joiner-${n++}`;
    expect((await app.api(r.owner, 'POST', `/rooms/${r.roomId}/members`, { sub, displayName: sub })).status).toBe(201);
    const c = new TestClient(app.url, app.token(sub));
    clients.push(c);
    await c.connected();
    const capture = captureSql(app.orm);
    try {
      const join = await c.request('room:join', { roomId: r.roomId });
      expect(join.ok).toBe(true);
      return { snapshot: join.snapshot, sql: capture.statements.map((s) => s.sql) };
    } finally {
      capture.stop();
    }
  }

  async function turn(r: RoomSetup) {
    const ack = await send(r.client, r.roomId, r.sessionId, '@writer go');
    expect((await turnEnd(r.client, ack.turnId)).status).toBe('completed');
  }

  it('keeps the budget of a room without a limit between joins, and reads it again after the room spends', async () => {
    const r = await setupRoom(app, { mode: 'manual', agents: [{ key: 'writer', name: 'Writer' }] });
    clients.push(r.client);
    await turn(r);
    const spent = await roomSpent(r.roomId);
    expect(spent).toBeGreaterThan(0);

    // The first join after the turn reads the room's parts, its budget with them.
    const first = await memberJoins(r);
    expect(first.snapshot.budget.tokens).toMatchObject({ spent, limit: null });
    // A join into the warm room: the same budget, not read again.
    const warm = await memberJoins(r);
    expect(warm.snapshot.budget).toEqual(first.snapshot.budget);
    expect(warm.sql.filter((s) => LEDGER.test(s))).toEqual([]);

    // The room spends again (budget:updated): the next join shows the new spend.
    await turn(r);
    const after = await roomSpent(r.roomId);
    expect(after).toBeGreaterThan(spent);
    const next = await memberJoins(r);
    expect(next.snapshot.budget.tokens).toMatchObject({ spent: after, limit: null });
  });

  it('reads the ledger on every join into a room with a daily limit', async () => {
    const r = await setupRoom(app, { mode: 'manual', agents: [{ key: 'writer', name: 'Writer' }] });
    clients.push(r.client);
    expect((await app.api(r.owner, 'PATCH', `/rooms/${r.roomId}`, { settings: { budget: { dailyTokens: 100_000 } } })).status).toBe(200);
    await turn(r);
    await memberJoins(r);
    const warm = await memberJoins(r);
    expect(warm.sql.filter((s) => LEDGER.test(s)).length).toBeGreaterThan(0);
    expect(warm.snapshot.budget.tokens).toMatchObject({ spent: await roomSpent(r.roomId), limit: 100_000 });
  });
});
