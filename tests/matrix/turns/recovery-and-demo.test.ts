import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { Message, Room, Session, Turn, User } from '../../../src/db/entities';
import { createTestDatabase } from '../../helpers/services';
import { startTestApp, testDb, type TestApp } from '../../helpers/test-app';
import { send, setupRoom, streamedText, turnEnd } from '../../helpers/turn-kit';

describe(`turn recovery and the demo model on ${testDb()}`, () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'pantheon-recovery-'));
  let drop: (() => Promise<void>) | undefined;
  let sharedDbUrl: string | undefined;
  const apps: TestApp[] = [];
  afterAll(async () => {
    for (const a of apps) await a.close().catch(() => undefined);
    await drop?.();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function start() {
    // Both starts share one database: the second start is the restart after the crash.
    if (testDb() === 'postgres' && !sharedDbUrl) {
      const db = await createTestDatabase();
      drop = db.drop;
      sharedDbUrl = db.url;
    }
    const app = await startTestApp({ dataDir, databaseUrl: sharedDbUrl });
    apps.push(app);
    return app;
  }

  it('marks a turn left running by a crash as interrupted at the next start, keeps the text its heartbeat checkpointed, and announces it', async () => {
    const first = await start();
    const em = first.orm.em.fork();
    const user = em.create(User, { sub: 'crash', displayName: 'Crash', kind: 'human' });
    const room = em.create(Room, { name: 'r', mode: 'manual', settings: {}, createdBy: user });
    const session = em.create(Session, { room, title: 's', createdBy: user });
    // What its heartbeat had checkpointed before the crash: two agents, the second cut short.
    const checkpoint = [
      { messageId: randomUUID(), agentKey: 'writer', modelAlias: 'demo', text: 'A whole answer.' },
      { messageId: randomUUID(), agentKey: 'critic', modelAlias: 'demo', text: 'Half of' },
    ];
    const turn = em.create(Turn, { room, session, requestedBy: user, mode: 'manual', status: 'running', startedAt: new Date(), partial: checkpoint });
    await em.flush();
    await first.close();
    apps.splice(apps.indexOf(first), 1);

    const second = await start();
    const after = await second.orm.em.fork().findOneOrFail(Turn, { id: turn.id });
    expect(after.status).toBe('interrupted');
    expect(after.endedAt).toBeInstanceOf(Date);
    expect(after.partial).toBeNull();
    const kept = await second.orm.em.fork().find(Message, { turn: turn.id }, { orderBy: { createdAt: 'asc' } });
    expect(kept.map((m) => [m.id, m.agentKey, m.content, m.status, m.modelAlias])).toEqual(
      checkpoint.map((c) => [c.messageId, c.agentKey, c.text, 'partial', 'demo']),
    );
    const log = await second.roomEvents.replayLog.since(room.id, 0);
    expect(log.gap).toBe(false);
    const ends = log.gap ? [] : log.events.filter((e) => e.event === 'turn:end');
    expect(ends.map((e) => { const d = e.data as { turnId: string; status: string }; return [d.turnId, d.status]; })).toEqual([[turn.id, 'interrupted']]);
    // Two starts of a fresh embedded database: each can take a while on a busy machine.
  }, 90_000);

  it('answers with the offline demo model when no model is configured, and says so', async () => {
    const app = apps[0] ?? (await start());
    const r = await setupRoom(app, { mode: 'manual', agents: [{ key: 'muse', name: 'Muse' }] });
    try {
      const ack = await send(r.client, r.roomId, r.sessionId, '@muse give me an idea for a story');
      const end = await turnEnd(r.client, ack.turnId);
      expect(end.status).toBe('completed');
      const text = streamedText(r.client, ack.turnId).muse ?? '';
      expect(text).toContain('demo');
      expect(text).toContain('Muse');
      const history = await app.api(r.owner, 'GET', `/sessions/${r.sessionId}/messages`);
      const reply = history.body.items.find((m: { authorType: string }) => m.authorType === 'agent');
      expect(reply).toMatchObject({ agentKey: 'muse', modelAlias: 'demo', content: text, status: 'complete' });
    } finally {
      r.client.close();
    }
  });
});
