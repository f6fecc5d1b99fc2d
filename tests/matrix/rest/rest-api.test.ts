import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, Message, Room, RoomMember, Session, User } from '../../../src/db/entities';
import { startTestApp, testDb, type TestApp } from '../../helpers/test-app';

// The REST suite; vitest runs this file once on PostgreSQL and once on PGlite.
describe(`REST API on ${testDb()}`, () => {
  let app: TestApp;
  let alice: string;
  let bob: string;
  let carol: string;
  let roomId: string;

  beforeAll(async () => {
    app = await startTestApp();
    alice = app.token('alice', { name: 'Alice' });
    bob = app.token('bob', { name: 'Bob' });
    carol = app.token('carol-bot', { name: 'Carol', bot: true });
    const r = await app.api(alice, 'POST', '/rooms', { name: 'Writers room', mode: 'roundtable' });
    expect(r.status).toBe(201);
    roomId = r.body.id;
  });
  afterAll(() => app?.close());

  const count = async (entity: any, where: object = {}) => app.orm.em.fork().count(entity, where);

  it('answers health with the database checked, without a token', async () => {
    const r = await app.api(undefined, 'GET', '/health');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: 'ok', checks: { database: { ok: true }, queue: { ok: true } } });
  });

  it('upserts the user from the token on auth/me, keeping one row per sub', async () => {
    const a = await app.api(carol, 'GET', '/auth/me');
    const b = await app.api(carol, 'GET', '/auth/me');
    expect(a.status).toBe(200);
    expect(a.body.user).toMatchObject({ sub: 'carol-bot', displayName: 'Carol', kind: 'bot' });
    expect(b.body.user.id).toBe(a.body.user.id);
  });

  it('makes the creator the owner and lists only the caller’s rooms', async () => {
    const mine = await app.api(alice, 'GET', '/rooms');
    expect(mine.body.items.map((r: any) => r.id)).toContain(roomId);
    expect(mine.body.items.find((r: any) => r.id === roomId)).toMatchObject({ role: 'owner', mode: 'roundtable' });
    const theirs = await app.api(bob, 'GET', '/rooms');
    expect(theirs.status).toBe(200);
    expect(theirs.body.items).toEqual([]);
  });

  it('paginates rooms with a cursor', async () => {
    const t = app.token('pager');
    for (let i = 0; i < 5; i++) await app.api(t, 'POST', '/rooms', { name: `r${i}` });
    const p1 = await app.api(t, 'GET', '/rooms?limit=2');
    expect(p1.body.items).toHaveLength(2);
    expect(p1.body.nextCursor).toBeTypeOf('string');
    const p2 = await app.api(t, 'GET', `/rooms?limit=2&before=${p1.body.nextCursor}`);
    const p3 = await app.api(t, 'GET', `/rooms?limit=2&before=${p2.body.nextCursor}`);
    const names = [...p1.body.items, ...p2.body.items, ...p3.body.items].map((r: any) => r.name);
    expect(names).toEqual(['r4', 'r3', 'r2', 'r1', 'r0']);
    expect(p3.body.nextCursor).toBeUndefined();
  });

  it('hides a room from non-members exactly like a missing room', async () => {
    const hidden = await app.api(bob, 'GET', `/rooms/${roomId}`);
    const missing = await app.api(bob, 'GET', '/rooms/00000000-0000-4000-8000-000000000000');
    const garbage = await app.api(bob, 'GET', '/rooms/not-a-uuid');
    for (const r of [hidden, missing, garbage]) {
      expect(r.status).toBe(404);
      expect(r.body.error.code).toBe('ROOM_NOT_FOUND');
    }
    expect(hidden.body).toEqual(missing.body);
    for (const path of ['/members', '/agents', '/sessions']) {
      const r = await app.api(bob, 'GET', `/rooms/${roomId}${path}`);
      expect(r.status, path).toBe(404);
      expect(r.body.error.code).toBe('ROOM_NOT_FOUND');
    }
  });

  it('lets the owner manage members, and only the owner', async () => {
    const bobMe = await app.api(bob, 'GET', '/auth/me');
    const add = await app.api(alice, 'POST', `/rooms/${roomId}/members`, { userId: bobMe.body.user.id });
    expect(add.status).toBe(201);
    expect(add.body).toMatchObject({ userId: bobMe.body.user.id, role: 'member' });

    const again = await app.api(alice, 'POST', `/rooms/${roomId}/members`, { userId: bobMe.body.user.id });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('ALREADY_MEMBER');

    const bySub = await app.api(alice, 'POST', `/rooms/${roomId}/members`, { sub: 'dave', displayName: 'Dave' });
    expect(bySub.status).toBe(201);

    const byMember = await app.api(bob, 'POST', `/rooms/${roomId}/members`, { sub: 'eve' });
    expect(byMember.status).toBe(403);
    expect(byMember.body.error.code).toBe('FORBIDDEN');

    const list = await app.api(bob, 'GET', `/rooms/${roomId}/members`);
    expect(list.status).toBe(200);
    expect(list.body.items.map((m: any) => [m.displayName, m.role])).toEqual([
      ['Alice', 'owner'],
      ['Bob', 'member'],
      ['Dave', 'member'],
    ]);

    const remove = await app.api(alice, 'DELETE', `/rooms/${roomId}/members/${bySub.body.userId}`);
    expect(remove.status).toBe(204);
    expect(await count(RoomMember, { room: roomId })).toBe(2);

    const aliceMe = await app.api(alice, 'GET', '/auth/me');
    const lastOwner = await app.api(alice, 'DELETE', `/rooms/${roomId}/members/${aliceMe.body.user.id}`);
    expect(lastOwner.status).toBe(409);
    expect(lastOwner.body.error.code).toBe('LAST_OWNER');
  });

  it('lets the owner create, list, update and delete agents', async () => {
    const created = await app.api(alice, 'POST', `/rooms/${roomId}/agents`, {
      key: 'Writer',
      name: 'Writer',
      rolePrompt: 'You write.',
      toolPermissions: ['web_search'],
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      key: 'writer',
      name: 'Writer',
      rolePrompt: 'You write.',
      modelAlias: 'demo',
      toolPermissions: ['web_search'],
      toolApprovals: {},
      position: 0,
    });
    const second = await app.api(alice, 'POST', `/rooms/${roomId}/agents`, { key: 'critic', name: 'Critic' });
    expect(second.body.position).toBe(1);

    const list = await app.api(bob, 'GET', `/rooms/${roomId}/agents`);
    expect(list.body.items.map((a: any) => a.key)).toEqual(['writer', 'critic']);

    const patched = await app.api(alice, 'PATCH', `/rooms/${roomId}/agents/writer`, { toolPermissions: ['read_file', 'web_search'], position: 5 });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ toolPermissions: ['read_file', 'web_search'], position: 5 });

    const byMember = await app.api(bob, 'PATCH', `/rooms/${roomId}/agents/writer`, { name: 'X' });
    expect(byMember.status).toBe(403);

    const del = await app.api(alice, 'DELETE', `/rooms/${roomId}/agents/critic`);
    expect(del.status).toBe(204);
    const gone = await app.api(alice, 'GET', `/rooms/${roomId}/agents/critic`);
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe('AGENT_NOT_FOUND');
  });

  it('updates a room (owner only)', async () => {
    const r = await app.api(alice, 'PATCH', `/rooms/${roomId}`, { mode: 'orchestrator', settings: { contextBudgetTokens: 3000 } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ mode: 'orchestrator', settings: { contextBudgetTokens: 3000 } });
    const byMember = await app.api(bob, 'PATCH', `/rooms/${roomId}`, { name: 'mine now' });
    expect(byMember.status).toBe(403);
  });

  it('checks room settings against their schema and merges a PATCH', async () => {
    const created = await app.api(alice, 'POST', '/rooms', { name: 'settings', settings: { busyPolicy: 'reject', budget: { dailyTokens: 5000 } } });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const patch = (settings: unknown) => app.api(alice, 'PATCH', `/rooms/${id}`, { settings });

    const unknownKey = await patch({ colour: 'red' });
    expect(unknownKey.status).toBe(400);
    expect(unknownKey.body.error.code).toBe('VALIDATION_FAILED');
    expect(unknownKey.body.error.message).toContain('colour');
    expect(unknownKey.body.error.details[0].path).toEqual(['settings']);
    const wrongType = await patch({ contextBudgetTokens: 'lots' });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.error.details[0].path).toEqual(['settings', 'contextBudgetTokens']);
    const nestedType = await patch({ budget: { dailyCostUsd: -1 } });
    expect(nestedType.status).toBe(400);
    expect(nestedType.body.error.details[0].path).toEqual(['settings', 'budget', 'dailyCostUsd']);
    const alias = await patch({ managerModelAlias: 'no-such-alias' });
    expect(alias.status).toBe(400);
    expect(alias.body.error.code).toBe('UNKNOWN_MODEL_ALIAS');
    expect(alias.body.error.details[0].path).toEqual(['settings', 'managerModelAlias']);
    // Nothing refused was written.
    expect((await app.api(alice, 'GET', `/rooms/${id}`)).body.settings).toEqual({ busyPolicy: 'reject', budget: { dailyTokens: 5000 } });

    // One key changes, the others stay; budget merges its own keys; null removes.
    const merged = await patch({ contextBudgetTokens: 4000, budget: { dailyCostUsd: 2.5 } });
    expect(merged.status).toBe(200);
    expect(merged.body.settings).toEqual({ busyPolicy: 'reject', contextBudgetTokens: 4000, budget: { dailyTokens: 5000, dailyCostUsd: 2.5 } });
    const removed = await patch({ busyPolicy: null, budget: { dailyTokens: null } });
    expect(removed.body.settings).toEqual({ contextBudgetTokens: 4000, budget: { dailyCostUsd: 2.5 } });
  });

  it('creates sessions and pages an empty history', async () => {
    const s = await app.api(bob, 'POST', `/rooms/${roomId}/sessions`, { title: 'Chapter one' });
    expect(s.status).toBe(201);
    expect(s.body).toMatchObject({ roomId, title: 'Chapter one' });
    const list = await app.api(alice, 'GET', `/rooms/${roomId}/sessions`);
    expect(list.body.items.map((x: any) => x.id)).toContain(s.body.id);
    const msgs = await app.api(alice, 'GET', `/sessions/${s.body.id}/messages?limit=10`);
    expect(msgs.status).toBe(200);
    expect(msgs.body).toEqual({ items: [] });
    const outsider = await app.api(app.token('mallory'), 'GET', `/sessions/${s.body.id}/messages`);
    expect(outsider.status).toBe(404);
    expect(outsider.body.error.code).toBe('SESSION_NOT_FOUND');
  });

  it('pages message history newest first with a cursor', async () => {
    const s = await app.api(alice, 'POST', `/rooms/${roomId}/sessions`, { title: 'History' });
    const em = app.orm.em.fork();
    const me = await em.findOneOrFail(User, { sub: 'alice' });
    const base = Date.now();
    for (let i = 0; i < 5; i++) {
      em.create(Message, {
        room: em.getReference(Room, roomId),
        session: em.getReference(Session, s.body.id),
        authorType: 'user',
        authorUser: me,
        content: `m${i}`,
        clientMsgId: `hist-${i}`,
        createdAt: new Date(base + i),
      });
    }
    await em.flush();
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await app.api(bob, 'GET', `/sessions/${s.body.id}/messages?limit=2${cursor ? `&before=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((m: any) => m.content));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['m4', 'm3', 'm2', 'm1', 'm0']);
    const bad = await app.api(bob, 'GET', `/sessions/${s.body.id}/messages?limit=1000`);
    expect(bad.body.error.code).toBe('VALIDATION_FAILED');
  });

  describe('bad input: a stable code and nothing written', () => {
    const post = (body: string | object, extra: Record<string, string> = {}) =>
      app.api(alice, 'POST', `/rooms/${roomId}/agents`, body, { 'content-type': 'application/json', ...extra });

    it('malformed JSON', async () => {
      const before = await count(Agent);
      const r = await post('{"key": "x", ');
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('MALFORMED_JSON');
      expect(await count(Agent)).toBe(before);
    });

    it('an oversize body', async () => {
      const before = await count(Agent);
      const r = await post({ key: 'big', name: 'Big', rolePrompt: 'x'.repeat(200_000) });
      expect(r.status).toBe(413);
      expect(r.body.error.code).toBe('PAYLOAD_TOO_LARGE');
      expect(await count(Agent)).toBe(before);
    });

    it('wrong types', async () => {
      const before = await count(Agent);
      const r = await post({ key: 42, name: ['n'], toolPermissions: 'web_search' });
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('VALIDATION_FAILED');
      expect(r.body.error.details.length).toBeGreaterThan(0);
      expect(await count(Agent)).toBe(before);
      const rooms = await count(Room);
      const r2 = await app.api(alice, 'POST', '/rooms', { name: '', mode: 'chaos' });
      expect(r2.body.error.code).toBe('VALIDATION_FAILED');
      expect(await count(Room)).toBe(rooms);
    });

    it('unknown keys and __proto__ are refused', async () => {
      const before = await count(Agent);
      const r = await post('{"key":"proto","name":"P","__proto__":{"admin":true}}');
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('VALIDATION_FAILED');
      expect(await count(Agent)).toBe(before);
    });

    it('an agent with an unknown tool', async () => {
      const before = await count(Agent);
      const r = await post({ key: 'hacker', name: 'Hacker', toolPermissions: ['web_search', 'shell_exec'] });
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('UNKNOWN_TOOL');
      expect(r.body.error.message).toContain('shell_exec');
      expect(await count(Agent)).toBe(before);
    });

    it('an agent with an unknown model alias', async () => {
      const before = await count(Agent);
      const r = await post({ key: 'ghost', name: 'Ghost', modelAlias: 'gpt-nope' });
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('UNKNOWN_MODEL_ALIAS');
      expect(await count(Agent)).toBe(before);
    });

    it('a duplicate agent key (any case)', async () => {
      await post({ key: 'dup', name: 'Dup' });
      const before = await count(Agent);
      const r = await post({ key: 'DUP', name: 'Dup again' });
      expect(r.status).toBe(409);
      expect(r.body.error.code).toBe('AGENT_KEY_TAKEN');
      expect(await count(Agent)).toBe(before);
    });

    it('a bad pagination cursor', async () => {
      const r = await app.api(alice, 'GET', '/rooms?before=%%%');
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('VALIDATION_FAILED');
    });

    it('an unknown endpoint', async () => {
      const r = await app.api(alice, 'GET', '/nope');
      expect(r.status).toBe(404);
      expect(r.body.error.code).toBe('NOT_FOUND');
    });
  });
});
