import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai';
import { startTestApp, type TestApp } from '../helpers/test-app';
import { eventsOf, fakeModelsEnv, send, setupRoom, streamedText, turnEnd, type RoomSetup } from '../helpers/turn-kit';

// The turn's last agent ends (its last text, `agent:end`) once the commit answered, in the same
// write as `turn:end`; a commit that waits (here: a row lock another transaction holds) keeps that
// end back only for AGENT_END_HOLD_MS. The commit is held by a real lock in PostgreSQL, seen
// waiting in pg_stat_activity.

const HOLD_MS = 1500;

describe("an agent's end waits for the turn's commit, within AGENT_END_HOLD_MS", () => {
  let fake: FakeOpenAI;
  let app: TestApp;
  /** Holds the turn's row lock. */
  let db: pg.Client;
  /** Watches the server's connections, and reads what is stored. */
  let observer: pg.Client;
  let r: RoomSetup;
  let gate: () => void;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    app = await startTestApp({ db: 'postgres', env: fakeModelsEnv(fake, { AGENT_END_HOLD_MS: String(HOLD_MS), DELTA_FLUSH_MS: '40' }) });
    db = new pg.Client({ connectionString: app.databaseUrl });
    observer = new pg.Client({ connectionString: app.databaseUrl });
    await Promise.all([db.connect(), observer.connect()]);
  });
  afterAll(async () => {
    await db?.end();
    await observer?.end();
    await app?.close();
    await fake?.close();
  });
  beforeEach(async () => {
    const opened = new Promise<void>((resolve) => (gate = resolve));
    // The answer's last word waits until the test holds the turn's row.
    fake.setResponder(() => ({ text: ['Hello ', { text: 'world', after: opened }] }));
    r = await setupRoom(app, { mode: 'manual', agents: [{ key: 'writer', name: 'Writer' }] });
    return () => r.client.close();
  });

  /** Starts a turn and lets its model finish while another transaction holds the turn's row: its commit waits. */
  async function turnWithCommitWaiting() {
    const ack = await send(r.client, r.roomId, r.sessionId, '@writer go');
    // Claimed (agent:start follows the claim): the row is free until the commit.
    await r.client.until(() => eventsOf(r.client, ack.turnId, 'agent:start').length > 0, 'agent:start');
    await db.query('begin');
    await db.query('select "id" from "turns" where "id" = $1 for update', [ack.turnId]);
    gate();
    await waitForCommitBlocked();
    return ack.turnId;
  }

  /** The turn's commit (one statement, `with "ended" as (update "turns" ...`) waits for the lock. */
  async function waitForCommitBlocked() {
    const deadline = Date.now() + 10_000;
    for (;;) {
      // Read outside the lock's transaction: within one, pg_stat_activity stays as first read.
      const { rows } = await observer.query(
        `select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and query ilike 'with "ended" as%'`,
      );
      if (rows.length) return;
      if (Date.now() > deadline) throw new Error('the turn commit never waited for the lock');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Anything the server wrote to this socket before it answers a request arrives before that answer. */
  async function roundTrip() {
    const refused = await r.client.request('message:send', { roomId: r.roomId });
    expect(refused.ok).toBe(false);
  }

  const stored = async (messageId: string) => (await observer.query('select "content" from "messages" where "id" = $1', [messageId])).rows[0]?.content as string | undefined;

  it('sends the last text and agent:end once the commit answered, just before turn:end', async () => {
    const turnId = await turnWithCommitWaiting();
    await roundTrip();
    expect(eventsOf(r.client, turnId, 'agent:end')).toEqual([]);
    expect(streamedText(r.client, turnId).writer ?? '').not.toContain('world');

    await db.query('commit');
    expect((await turnEnd(r.client, turnId)).status).toBe('completed');
    const events = eventsOf(r.client, turnId).map((e) => e.event);
    expect(events.slice(-3)).toEqual(['agent:end', 'budget:updated', 'turn:end']);
    expect(streamedText(r.client, turnId).writer).toBe('Hello world');
    const end = eventsOf(r.client, turnId, 'agent:end')[0]!.data;
    expect(await stored(end.messageId)).toBe('Hello world');
  });

  it('sends them after AGENT_END_HOLD_MS while the commit still waits', async () => {
    const turnId = await turnWithCommitWaiting();
    try {
      await r.client.until(() => eventsOf(r.client, turnId, 'agent:end').length > 0, 'agent:end', HOLD_MS + 10_000);
      expect(streamedText(r.client, turnId).writer).toBe('Hello world');
      // The commit has not answered: nothing is stored and the turn has not ended.
      const end = eventsOf(r.client, turnId, 'agent:end')[0]!.data;
      expect(await stored(end.messageId)).toBeUndefined();
      expect(eventsOf(r.client, turnId, 'turn:end')).toEqual([]);
    } finally {
      await db.query('commit');
    }
    expect((await turnEnd(r.client, turnId)).status).toBe('completed');
  });
});
