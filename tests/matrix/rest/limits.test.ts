import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, Message, Room, Session, Turn } from '../../../src/db/entities';
import { startFakeOpenAI, type FakeOpenAI } from '../../helpers/fake-openai';
import { clientMsgId, fakeModelsEnv, send, setupRoom, systemOf } from '../../helpers/turn-kit';
import { startTestApp, testDb, type TestApp } from '../../helpers/test-app';

// The caps on what one user can make the server hold or spend (docs/security.md), each refused
// with a stable code and nothing written; small values here so the tests reach them quickly.
describe(`limits on ${testDb()}`, () => {
  let fake: FakeOpenAI;
  let app: TestApp;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    app = await startTestApp({
      env: fakeModelsEnv(fake, {
        MAX_ROOMS_PER_USER: '3',
        MAX_AGENTS_PER_ROOM: '2',
        MAX_SESSIONS_PER_ROOM: '2',
        MAX_QUEUED_TURNS_PER_SESSION: '2',
        MAX_ROLE_PROMPT_CHARS: '50',
        MAX_SYSTEM_PROMPT_CHARS: '2000',
      }),
    });
  });
  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });

  const count = (entity: any, where: object = {}) => app.orm.em.fork().count(entity, where);
  const expectLimit = (r: { status: number; body: any }, limit: string, max: number) => {
    expect(r.status, JSON.stringify(r.body)).toBe(409);
    expect(r.body.error).toMatchObject({ code: 'LIMIT_REACHED', details: { limit, max } });
  };

  it('rooms per user: the owner of MAX_ROOMS_PER_USER rooms can create no more, even with concurrent requests', async () => {
    const t = app.token('hoarder');
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => app.api(t, 'POST', '/rooms', { name: `r${i}` })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(3);
    for (const r of results.filter((x) => x.status !== 201)) expectLimit(r, 'roomsPerUser', 3);
    const before = await count(Room);
    expectLimit(await app.api(t, 'POST', '/rooms', { name: 'one more' }), 'roomsPerUser', 3);
    expect(await count(Room)).toBe(before);
    // The cap is per user.
    expect((await app.api(app.token('someone-else'), 'POST', '/rooms', { name: 'mine' })).status).toBe(201);
  });

  it('agents per room: MAX_AGENTS_PER_ROOM, and removing one frees its slot', async () => {
    const t = app.token('agent-owner');
    const room = await app.api(t, 'POST', '/rooms', { name: 'crowd', mode: 'roundtable' });
    const path = `/rooms/${room.body.id}/agents`;
    expect((await app.api(t, 'POST', path, { key: 'a1', name: 'A1' })).status).toBe(201);
    expect((await app.api(t, 'POST', path, { key: 'a2', name: 'A2' })).status).toBe(201);
    const before = await count(Agent);
    expectLimit(await app.api(t, 'POST', path, { key: 'a3', name: 'A3' }), 'agentsPerRoom', 2);
    expect(await count(Agent)).toBe(before);
    expect((await app.api(t, 'DELETE', `${path}/a1`)).status).toBe(204);
    expect((await app.api(t, 'POST', path, { key: 'a3', name: 'A3' })).status).toBe(201);
  });

  it('sessions per room: MAX_SESSIONS_PER_ROOM', async () => {
    const t = app.token('session-owner');
    const room = await app.api(t, 'POST', '/rooms', { name: 'talkative' });
    const path = `/rooms/${room.body.id}/sessions`;
    const results = await Promise.all([1, 2, 3].map((i) => app.api(t, 'POST', path, { title: `s${i}` })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(2);
    expectLimit(results.find((r) => r.status !== 201)!, 'sessionsPerRoom', 2);
    expect(await count(Session, { room: room.body.id })).toBe(2);
  });

  it('role prompts: at most MAX_ROLE_PROMPT_CHARS, on create and on update', async () => {
    const t = app.token('prompt-owner');
    const room = await app.api(t, 'POST', '/rooms', { name: 'verbose' });
    const path = `/rooms/${room.body.id}/agents`;
    const before = await count(Agent);
    const long = await app.api(t, 'POST', path, { key: 'wordy', name: 'Wordy', rolePrompt: 'x'.repeat(51) });
    expect(long.status).toBe(400);
    expect(long.body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: ['rolePrompt'] }] });
    expect(await count(Agent)).toBe(before);
    expect((await app.api(t, 'POST', path, { key: 'terse', name: 'Terse', rolePrompt: 'x'.repeat(50) })).status).toBe(201);
    const patch = await app.api(t, 'PATCH', `${path}/terse`, { rolePrompt: 'y'.repeat(51) });
    expect(patch.status).toBe(400);
    expect((await app.api(t, 'GET', `${path}/terse`)).body.rolePrompt).toBe('x'.repeat(50));
  });

  it('queued turns per session: past MAX_QUEUED_TURNS_PER_SESSION a send is refused with QUEUE_FULL, nothing written; a repeat still answers', async () => {
    // The first turn hangs in its model call, so the next ones stay queued behind it.
    fake.setResponder(() => ({ hangBeforeHeaders: true }));
    const r = await setupRoom(app, { mode: 'roundtable', agents: [{ key: 'slow', name: 'Slow', modelAlias: 'fake' }] });
    // A role prompt stored before the cap existed: the system message still stays within its cap.
    await app.orm.em.fork().nativeUpdate(Agent, { room: r.roomId, key: 'slow' }, { rolePrompt: 'legacy '.repeat(1200) });
    try {
      const index = fake.requests.length;
      await send(r.client, r.roomId, r.sessionId, 'first');
      const request = await fake.waitForRequest(index);
      expect(systemOf(request).length).toBeLessThanOrEqual(2000);
      expect(systemOf(request)).toMatch(/^You are Slow,/);

      const second = await send(r.client, r.roomId, r.sessionId, 'second');
      await send(r.client, r.roomId, r.sessionId, 'third');
      expect(await count(Turn, { session: r.sessionId, status: 'queued' })).toBe(2);
      const messages = await count(Message, { session: r.sessionId });
      const turns = await count(Turn, { session: r.sessionId });

      const refused = await r.client.request('message:send', { roomId: r.roomId, sessionId: r.sessionId, clientMsgId: clientMsgId(), content: 'fourth' });
      expect(refused).toEqual({
        ok: false,
        error: { code: 'QUEUE_FULL', message: expect.any(String), details: { limit: 'queuedTurnsPerSession', max: 2 } },
      });
      expect(await count(Message, { session: r.sessionId })).toBe(messages);
      expect(await count(Turn, { session: r.sessionId })).toBe(turns);
      expect(r.client.received.filter((e) => e.event === 'message:created' && e.data.message.content === 'fourth')).toEqual([]);

      // A repeated send of an accepted message is not a new one: it answers as before.
      const again = await r.client.request('message:send', {
        roomId: r.roomId,
        sessionId: r.sessionId,
        clientMsgId: (await app.orm.em.fork().findOneOrFail(Message, { id: second.messageId })).clientMsgId,
        content: 'second',
      });
      expect(again).toMatchObject({ ok: true, turnId: second.turnId, duplicate: true });
    } finally {
      r.client.close();
      fake.setResponder(undefined);
    }
  });
});
