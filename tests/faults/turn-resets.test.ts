import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai';
import { startProxiedApp, type ProxiedApp } from '../helpers/proxied-app';
import { answerAs, clientMsgId, setupRoom } from '../helpers/turn-kit';

// Every connection to PostgreSQL is reset every 300-900 ms while 40 turns run in 4 sessions:
// claims, commits, heartbeats, sends and announcements all meet dropped connections. Every turn
// still ends exactly once with the status the database holds, and no session is left blocked.

const SESSIONS = 4;
const TURNS_PER_SESSION = 10;
const MAX_RESETS = 60;
const STALE_AFTER_MS = 1_500;

describe('connections to PostgreSQL reset every 300-900 ms', () => {
  let fake: FakeOpenAI;
  let s: ProxiedApp;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    fake.setResponder(answerAs());
    s = await startProxiedApp(fake, {
      TURN_HEARTBEAT_MS: '200',
      TURN_STALE_AFTER_MS: String(STALE_AFTER_MS),
      TURN_SWEEP_MS: '500',
      // One user sends all 40 messages and their retries.
      RATE_LIMIT_MESSAGES_PER_MINUTE: '10000',
    });
  });
  afterAll(async () => {
    await s?.close();
    await fake?.close();
  });

  it('ends each of 40 turns once, with the stored status, and blocks no session', async () => {
    const started = Date.now();
    const r = await setupRoom(s.app, { mode: 'manual', agents: [{ key: 'writer', name: 'Writer' }] });
    const sessions = [r.sessionId];
    while (sessions.length < SESSIONS) sessions.push((await s.app.api(r.owner, 'POST', `/rooms/${r.roomId}/sessions`, { title: 'more' })).body.id);

    let sending = true;
    let resets = 0;
    const resetting = (async () => {
      while (sending && resets < MAX_RESETS) {
        await sleep(300 + Math.random() * 600);
        s.proxy.resetAll();
        resets++;
      }
    })();

    /** A client sends again with the same clientMsgId until it gets an ok, as a real client would. */
    let failedAcks = 0;
    const sendUntilAcked = async (sessionId: string, n: number) => {
      const payload = { roomId: r.roomId, sessionId, clientMsgId: clientMsgId(), content: `@writer message ${n}` };
      let last: unknown;
      for (let attempt = 0; attempt < 50; attempt++) {
        const ack = await r.client.request('message:send', payload);
        if (ack.ok) return ack as { turnId: string; messageId: string };
        last = ack;
        failedAcks++;
        await sleep(100 + Math.random() * 200);
      }
      throw new Error(`a send was never acknowledged: ${JSON.stringify(last)}`);
    };
    const acks = await Promise.all(
      sessions.map(async (sessionId) => {
        const mine: { turnId: string; messageId: string }[] = [];
        for (let n = 0; n < TURNS_PER_SESSION; n++) {
          mine.push(await sendUntilAcked(sessionId, n));
          await sleep(1_500 + Math.random() * 700);
        }
        return mine;
      }),
    ).then((all) => all.flat());
    sending = false;
    await resetting;

    const ended = (turnId: string) => r.client.received.some((e) => e.event === 'turn:end' && e.data.turnId === turnId);
    await r.client.until(() => acks.every((a) => ended(a.turnId)), 'every turn:end', 30_000);
    // Then everything is stored as announced, and a few sweeps later nothing was announced twice.
    const settled = async () => {
      const rows = await s.direct.query(`select count(*)::int as n from turns where room_id = $1 and (end_announced_at is null or status in ('queued', 'running'))`, [r.roomId]);
      return rows.rows[0].n === 0;
    };
    for (let i = 0; i < 100 && !(await settled()); i++) await sleep(100);
    await sleep(2 * STALE_AFTER_MS);

    const stored = new Map<string, string>(
      (await s.direct.query('select id, status from turns where room_id = $1', [r.roomId])).rows.map((t: { id: string; status: string }) => [t.id, t.status]),
    );
    expect(stored.size).toBe(SESSIONS * TURNS_PER_SESSION);
    for (const a of acks) {
      const ends = r.client.received.filter((e) => e.event === 'turn:end' && e.data.turnId === a.turnId).map((e) => e.data.status);
      expect(ends, `turn:end of ${a.turnId}`).toEqual([stored.get(a.turnId)]);
      const created = r.client.received.filter((e) => e.event === 'message:created' && e.data.message.id === a.messageId);
      expect(created, `message:created of ${a.messageId}`).toHaveLength(1);
    }
    const byStatus: Record<string, number> = {};
    for (const st of stored.values()) byStatus[st] = (byStatus[st] ?? 0) + 1;
    console.log(JSON.stringify({ resets, connectionsCut: s.proxy.stats.resets, connections: s.proxy.stats.connections, failedAcks, byStatus, seconds: (Date.now() - started) / 1000 }));
    expect(resets).toBeGreaterThanOrEqual(20);
  }, 120_000);
});
