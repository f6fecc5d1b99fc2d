import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai';
import type { CommitCut } from '../helpers/pg-proxy';
import { startProxiedApp, type ProxiedApp } from '../helpers/proxied-app';
import { TestClient } from '../helpers/socket-client';
import { answerAs, clientMsgId, eventsOf, send, setupRoom, turnEnd, type RoomSetup } from '../helpers/turn-kit';

// PostgreSQL's connection drops at a COMMIT of the turn path: the room hears what the database
// holds, once. The sweep is an hour away, so only the turn path itself can get it right.

/** The turn's own commit: the only transaction that writes model usage. */
const TURN_COMMIT = /insert into "llm_usage_events"/i;
/** A claim: one statement that starts a queued turn. */
const CLAIM = /update "turns" set "status" = 'running'/i;
/** A send: the only statement that inserts a turn (with its message, on its own). */
const INTAKE = /insert into "turns"/i;

const messageCreated = (c: TestClient, messageId: string) =>
  c.received.filter((e) => e.event === 'message:created' && e.data.message.id === messageId);

describe('the connection to PostgreSQL drops at a COMMIT', () => {
  let fake: FakeOpenAI;
  let s: ProxiedApp;
  let r: RoomSetup;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    s = await startProxiedApp(fake, { TURN_SWEEP_MS: '3600000', TURN_STALE_AFTER_MS: '3600000' });
  });
  afterAll(async () => {
    await s?.close();
    await fake?.close();
  });
  beforeEach(async () => {
    fake.setResponder(answerAs());
    r = await setupRoom(s.app, { mode: 'manual', agents: [{ key: 'writer', name: 'Writer' }] });
    return () => r.client.close();
  });

  /** Runs one more turn in the session: it starts only if the session is free, and any late event of earlier turns arrives before its end. */
  async function nextTurnRuns() {
    const next = await send(r.client, r.roomId, r.sessionId, '@writer next');
    expect((await turnEnd(r.client, next.turnId, 10_000)).status).toBe('completed');
  }

  /** Exactly one turn:end, carrying the status the database holds, and marked announced. */
  async function endedOnceAsStored(turnId: string, status: string) {
    const ends = eventsOf(r.client, turnId, 'turn:end');
    const stored = await s.stored(turnId);
    expect(stored.status).toBe(status);
    expect(ends.map((e) => e.data.status)).toEqual([stored.status]);
    expect(stored.end_announced_at).toBeInstanceOf(Date);
  }

  it.each<[CommitCut, string]>([
    ['before', 'is not committed: it is committed again'],
    ['during', 'is committed but unheard: it is read back'],
    ['after', 'is committed and heard, and the next statement finds the connection gone'],
  ])('cut %s the turn commit (%s): one turn:end with the stored status', async (when) => {
    const cut = s.proxy.cutCommit(when, TURN_COMMIT);
    const ack = await send(r.client, r.roomId, r.sessionId, '@writer go');
    expect((await turnEnd(r.client, ack.turnId, 10_000)).status).toBe('completed');
    await nextTurnRuns();
    await cut;
    await endedOnceAsStored(ack.turnId, 'completed');
  });

  it('keeps trying the turn commit while the database is unreachable, and announces once it is stored', async () => {
    const cut = s.proxy.cutCommit('before', TURN_COMMIT).then(() => {
      s.proxy.block();
      setTimeout(() => s.proxy.unblock(), 1_500);
    });
    const ack = await send(r.client, r.roomId, r.sessionId, '@writer go');
    await cut;
    expect((await turnEnd(r.client, ack.turnId, 10_000)).status).toBe('completed');
    await nextTurnRuns();
    await endedOnceAsStored(ack.turnId, 'completed');
  });

  it('runs a turn whose claim committed unheard, and the session goes on', async () => {
    const cut = s.proxy.cutCommit('during', CLAIM);
    const ack = await send(r.client, r.roomId, r.sessionId, '@writer go');
    await cut;
    expect((await turnEnd(r.client, ack.turnId, 10_000)).status).toBe('completed');
    await nextTurnRuns();
    await endedOnceAsStored(ack.turnId, 'completed');
    expect(eventsOf(r.client, ack.turnId, 'turn:started')).toHaveLength(1);
  });

  it('acks a send whose commit happened unheard, announces its message once, and runs its turn', async () => {
    const cut = s.proxy.cutCommit('during', INTAKE);
    const ack = await send(r.client, r.roomId, r.sessionId, '@writer go');
    await cut;
    expect(ack.duplicate).toBe(false);
    expect((await turnEnd(r.client, ack.turnId, 10_000)).status).toBe('completed');
    await nextTurnRuns();
    expect(messageCreated(r.client, ack.messageId)).toHaveLength(1);
    await endedOnceAsStored(ack.turnId, 'completed');
  });

  it('shows the message of a repeated send whose first ack was lost, and starts its turn at once', async () => {
    // The send commits unheard and the database stays unreachable longer than the send waits:
    // its ack is an error, though its message and turn are stored.
    const cut = s.proxy.cutCommit('during', INTAKE).then(() => s.proxy.block());
    const id = clientMsgId();
    const payload = { roomId: r.roomId, sessionId: r.sessionId, clientMsgId: id, content: '@writer go' };
    const first = await r.client.request('message:send', payload);
    await cut;
    expect(first.ok).toBe(false);
    s.proxy.unblock();
    const again = await r.client.request('message:send', payload);
    expect(again).toMatchObject({ ok: true, duplicate: true });
    await r.client.until(() => messageCreated(r.client, again.messageId).length > 0, 'message:created of the repeated send', 5_000);
    expect((await turnEnd(r.client, again.turnId, 5_000)).status).toBe('completed');
    await nextTurnRuns();
    expect(messageCreated(r.client, again.messageId)).toHaveLength(1);
    expect(eventsOf(r.client, again.turnId, 'turn:queued')).toHaveLength(1);
    await endedOnceAsStored(again.turnId, 'completed');
  });
});
