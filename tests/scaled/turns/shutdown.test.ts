import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../../helpers/fake-openai';
import { createTestDatabase } from '../../helpers/services';
import { startTestApp } from '../../helpers/test-app';
import { answerAs, eventsOf, fakeModelsEnv, send, setupRoom } from '../../helpers/turn-kit';

// Stopping a node while a turn streams: the turn may finish within the grace period, else it is
// cancelled; either way it is committed and ends once.
describe('shutdown with a turn running', () => {
  let fake: FakeOpenAI;
  const dbs: { url: string; drop(): Promise<void> }[] = [];
  beforeAll(async () => {
    fake = await startFakeOpenAI();
  });
  afterAll(async () => {
    await fake?.close();
    for (const d of dbs) await d.drop();
  });

  async function runAndStop(graceMs: number, chunks: number) {
    const db = await createTestDatabase();
    dbs.push(db);
    fake.setResponder(answerAs({ Writer: () => ({ text: Array.from({ length: chunks }, (_, i) => ({ text: `c${i} `, delayMs: 20 })) }) }));
    const app = await startTestApp({ db: 'postgres', databaseUrl: db.url, env: fakeModelsEnv(fake, { SHUTDOWN_GRACE_MS: String(graceMs) }) });
    const r = await setupRoom(app, { mode: 'manual', agents: [{ key: 'writer', name: 'Writer' }] });
    const ack = await send(r.client, r.roomId, r.sessionId, '@writer go');
    await r.client.until(() => eventsOf(r.client, ack.turnId, 'agent:delta').length >= 1, 'streaming');
    await app.close();
    r.client.close();
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      const turn = (await c.query('select status from turns where id = $1', [ack.turnId])).rows[0];
      const msg = (await c.query(`select content, status from messages where turn_id = $1 and author_type = 'agent'`, [ack.turnId])).rows[0];
      return { turn, msg, ends: eventsOf(r.client, ack.turnId, 'turn:end') };
    } finally {
      await c.end();
    }
  }

  it('lets a running turn finish within the grace period', async () => {
    const { turn, msg, ends } = await runAndStop(10_000, 30);
    expect(turn.status).toBe('completed');
    expect(msg.content).toBe(Array.from({ length: 30 }, (_, i) => `c${i} `).join(''));
    expect(ends.map((e) => e.data.status)).toEqual(['completed']);
  });

  it('cancels a turn still running when the grace period is over, and commits what streamed', async () => {
    const { turn, msg } = await runAndStop(150, 500);
    expect(turn.status).toBe('cancelled');
    expect(msg.status).toBe('cancelled');
    expect(msg.content.length).toBeGreaterThan(0);
    expect(msg.content.length).toBeLessThan(500 * 4);
  });
});
