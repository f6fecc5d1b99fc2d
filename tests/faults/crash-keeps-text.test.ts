import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai';
import { cleanEnv, spawnNpm, type Spawned, LISTENING } from '../helpers/process';
import { createTestDatabase, TEST_REDIS_URL, uniqueRedisPrefix } from '../helpers/services';
import { remoteApp, startTestApp, TEST_JWT_SECRET, type TestApp } from '../helpers/test-app';
import { answerAs, fakeModelsEnv, send, setupRoom, streamedText } from '../helpers/turn-kit';

// A server process is killed (SIGKILL) while an agent streams. Another node interrupts the turn,
// and the turn's history keeps the text the room had seen, as far as the killed node's heartbeat
// had checkpointed it.


describe('a server killed mid-turn', () => {
  let fake: FakeOpenAI;
  let db: { url: string; drop(): Promise<void> };
  let direct: pg.Client;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'pantheon-crash-'));
  let child: Spawned | undefined;
  let next: TestApp | undefined;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    db = await createTestDatabase();
    direct = new pg.Client({ connectionString: db.url });
    await direct.connect();
  });
  afterAll(async () => {
    await child?.stop('SIGKILL');
    await next?.close();
    await direct?.end();
    await db?.drop();
    await fake?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Polls the database until `check` holds. */
  async function until<T>(read: () => Promise<T>, check: (v: T) => boolean, what: string, timeoutMs = 15_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await read();
      if (check(v)) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(50);
    }
  }

  it('keeps the streamed text its heartbeat checkpointed as the agent message of the interrupted turn', async () => {
    // 600 chunks, 20 ms apart: the agent is still speaking when the server dies.
    fake.setResponder(answerAs({ Writer: () => ({ text: Array.from({ length: 600 }, (_, i) => ({ text: `w${i} `, delayMs: 20 })) }) }));
    const redisKeyPrefix = uniqueRedisPrefix();
    child = spawnNpm(
      ['start'],
      cleanEnv({
        ...fakeModelsEnv(fake),
        PORT: '0',
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        DATABASE_URL: db.url,
        REDIS_URL: TEST_REDIS_URL,
        REDIS_KEY_PREFIX: redisKeyPrefix,
        JWT_SECRET: TEST_JWT_SECRET,
        TURN_HEARTBEAT_MS: '200',
        LOG_LEVEL: 'info',
      }),
    );
    const [, url] = await child.waitFor(LISTENING);
    const r = await setupRoom(remoteApp(url!), { mode: 'manual', agents: [{ key: 'writer', name: 'Writer' }] });
    const ack = await send(r.client, r.roomId, r.sessionId, '@writer write at length');

    // The room saw text, and a heartbeat checkpointed some of it.
    await r.client.until(() => (streamedText(r.client, ack.turnId).writer ?? '').length > 0, 'streamed text');
    const checkpointed = await until(
      async () => (await direct.query('select partial from turns where id = $1', [ack.turnId])).rows[0]?.partial as { agentKey: string; text: string }[] | null,
      (p) => (p?.[0]?.text.length ?? 0) >= 'w0 w1 w2 w3 w4 '.length,
      'a checkpoint of five chunks of streamed text',
    );
    expect(checkpointed![0]!.agentKey).toBe('writer');
    await child.stop('SIGKILL');
    const seenByClient = streamedText(r.client, ack.turnId).writer!;
    r.client.close();

    // Another node finds the turn abandoned once its heartbeat is stale.
    next = await startTestApp({
      db: 'postgres',
      databaseUrl: db.url,
      redis: true,
      redisKeyPrefix,
      env: fakeModelsEnv(fake, { TURN_HEARTBEAT_MS: '200', TURN_STALE_AFTER_MS: '1000', TURN_SWEEP_MS: '200' }),
    });
    await until(
      async () => (await direct.query('select status, end_announced_at from turns where id = $1', [ack.turnId])).rows[0],
      (t) => t.status === 'interrupted' && t.end_announced_at !== null,
      'the turn interrupted and announced',
    );

    // What was published to the room: every agent:delta of the turn, in order, from the replay log.
    const log = await next.roomEvents.replayLog.since(r.roomId, 0);
    expect(log.gap).toBe(false);
    const events = log.gap ? [] : log.events;
    const published = events
      .filter((e) => e.event === 'agent:delta' && (e.data as { turnId: string }).turnId === ack.turnId)
      .map((e) => (e.data as { text: string }).text)
      .join('');
    const ends = events.filter((e) => e.event === 'turn:end' && (e.data as { turnId: string }).turnId === ack.turnId);
    expect(ends.map((e) => (e.data as { status: string }).status)).toEqual(['interrupted']);

    const history = await next.api(r.owner, 'GET', `/sessions/${r.sessionId}/messages`);
    const kept = (history.body.items as { authorType: string; agentKey: string; status: string; content: string; turnId: string }[]).filter(
      (m) => m.authorType === 'agent' && m.turnId === ack.turnId,
    );
    expect(kept.map((m) => [m.agentKey, m.status])).toEqual([['writer', 'partial']]);
    const text = kept[0]!.content;
    // A non-empty prefix of what streamed to the room (the client saw a prefix of it too: the
    // last frames may still have been on their way when the process died), and at least what the
    // checkpoint held when the test looked.
    expect(text.length).toBeGreaterThan(0);
    expect(published.startsWith(seenByClient)).toBe(true);
    expect(published.startsWith(text)).toBe(true);
    expect(text.startsWith(checkpointed![0]!.text)).toBe(true);
    console.log(JSON.stringify({ kept: text.length, seenByClient: seenByClient.length, published: published.length }));
  }, 120_000);
});
