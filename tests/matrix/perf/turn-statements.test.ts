import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../../helpers/fake-openai';
import { captureSql } from '../../helpers/sql-capture';
import { startTestApp, testDb, type TestApp } from '../../helpers/test-app';
import { answerAs, fakeModelsEnv, send, setupRoom, turnEnd } from '../../helpers/turn-kit';

/**
 * Statements one turn of one agent sends, from `message:send` to the scheduler's last, empty claim
 * after it (begin and commit count: each is a round trip). docs/benchmarks.md breaks them down;
 * lower this when the turn path loses one, never raise it without saying why there.
 */
const TURN_STATEMENTS_MAX = 7;

describe(`SQL statements of one turn on ${testDb()}`, () => {
  let fake: FakeOpenAI;
  let app: TestApp;
  /** Sessions whose loop made an empty claim, in order: the loop is about to stop. */
  const emptyClaims: string[] = [];
  const waiters: (() => void)[] = [];

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    fake.setResponder(answerAs());
    app = await startTestApp({
      env: fakeModelsEnv(fake),
      turnProbes: {
        async afterEmptyClaim(sessionId) {
          emptyClaims.push(sessionId);
          for (const w of waiters.splice(0)) w();
        },
      },
    });
  });
  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });

  /** Resolves once the session's loop has made `n` empty claims in all. */
  const loopStopped = (sessionId: string, n: number) =>
    new Promise<void>((resolve) => {
      const check = () => (emptyClaims.filter((s) => s === sessionId).length >= n ? resolve() : waiters.push(check));
      check();
    });

  it('sends a bounded number of statements from send to the end of the loop', async () => {
    const room = await setupRoom(app, { mode: 'manual', agents: [{ key: 'writer', name: 'Writer' }] });
    try {
      // A first turn warms caches and leaves the session's loop stopped.
      const warm = await send(room.client, room.roomId, room.sessionId, '@writer first');
      await turnEnd(room.client, warm.turnId);
      await loopStopped(room.sessionId, 1);

      const capture = captureSql(app.orm);
      const ack = await send(room.client, room.roomId, room.sessionId, '@writer second');
      const beforeAck = capture.statements.length;
      expect((await turnEnd(room.client, ack.turnId)).status).toBe('completed');
      const toEnd = capture.statements.length;
      await loopStopped(room.sessionId, 2);
      capture.stop();
      const total = capture.statements.length;
      const byKind = capture.statements.reduce<Record<string, number>>((m, s) => ((m[s.kind] = (m[s.kind] ?? 0) + 1), m), {});
      // The split is as the client saw it: the scheduler starts the turn while the ack travels.
      console.info(`turn statements: ${beforeAck} before the ack arrived, ${toEnd - beforeAck} to turn:end, ${total - toEnd} after; ${JSON.stringify(byKind)}`);
      expect(total).toBeLessThanOrEqual(TURN_STATEMENTS_MAX);
      // What the count covers: the intake's inserts (the turn and its message, one statement), the
      // claims (the one that starts the turn reads its context too), the commit's writes with the
      // budget ledger's (one statement; no limit applies in this room), the outbox marks.
      const sqls = capture.statements.map((s) => s.sql);
      const matching = (re: RegExp) => sqls.filter((s) => re.test(s)).length;
      expect(matching(/insert into "turns"[\s\S]*insert into "messages"/)).toBe(1);
      expect(matching(/update "turns" set "status" = 'running'/)).toBe(2);
      expect(matching(/update "turns" set "status" = 'completed'[\s\S]*insert into "messages"[\s\S]*insert into "llm_usage_events"[\s\S]*insert into "budget_ledger"/)).toBe(1);
      expect(matching(/update "turns" set "status" = 'running'[\s\S]*"recent"/)).toBe(2);
      expect(matching(/budget_ledger/)).toBe(1);
      expect(matching(/set "(queue|end)_announced_at"/)).toBe(2);
    } finally {
      room.client.close();
    }
  });
});
