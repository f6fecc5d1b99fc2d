import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Room } from '../../../src/db/entities';
import { TestClient } from '../../helpers/socket-client';
import { startTestApp, testDb, type TestApp } from '../../helpers/test-app';

describe(`rate limits on ${testDb()}`, () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { RATE_LIMIT_REQUESTS_PER_MINUTE: '5', RATE_LIMIT_MESSAGES_PER_MINUTE: '2' } });
  });
  afterAll(() => app?.close());

  it('answers 429 RATE_LIMITED past the per-user request limit, without writing, and counts users apart', async () => {
    const t = app.token('busy');
    for (let i = 0; i < 5; i++) expect((await app.api(t, 'GET', '/auth/me')).status).toBe(200);
    const before = await app.orm.em.fork().count(Room);
    const r = await app.api(t, 'POST', '/rooms', { name: 'one too many' });
    expect(r.status).toBe(429);
    expect(r.body.error.code).toBe('RATE_LIMITED');
    expect(await app.orm.em.fork().count(Room)).toBe(before);
    expect((await app.api(app.token('calm'), 'GET', '/auth/me')).status).toBe(200);
  });

  it('limits message:send per user', async () => {
    const t = app.token('chatty');
    const roomId = (await app.api(t, 'POST', '/rooms', { name: 'chat' })).body.id;
    const sessionId = (await app.api(t, 'POST', `/rooms/${roomId}/sessions`, {})).body.id;
    const c = new TestClient(app.url, t);
    await c.connected();
    try {
      await c.request('room:join', { roomId });
      const acks = [];
      for (let i = 0; i < 3; i++) acks.push(await c.request('message:send', { roomId, sessionId, clientMsgId: `rl-${i}`, content: 'hi' }));
      expect(acks.map((a) => a.ok)).toEqual([true, true, false]);
      expect(acks[2].error.code).toBe('RATE_LIMITED');
    } finally {
      c.close();
    }
  });
});
