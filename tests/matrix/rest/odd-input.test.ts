import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, Message, Room, Session, StoredFile, User } from '../../../src/db/entities';
import { TestClient } from '../../helpers/socket-client';
import { startTestApp, testDb, TEST_JWT_SECRET, type TestApp } from '../../helpers/test-app';
import { clientMsgId } from '../../helpers/turn-kit';

// Input that is odd but not hostile: a stable 4xx code and nothing written, never a 500.
describe(`odd input on ${testDb()}`, () => {
  const iss = 'https://id.example.test';
  const aud = 'pantheon-odd-input';
  let app: TestApp;
  let alice: string;
  let roomId: string;
  let sessionId: string;

  beforeAll(async () => {
    app = await startTestApp({ env: { JWT_ISSUER: iss, JWT_AUDIENCE: aud } });
    alice = app.token('alice', { name: 'Alice' });
    roomId = (await app.api(alice, 'POST', '/rooms', { name: 'Odd' })).body.id;
    sessionId = (await app.api(alice, 'POST', `/rooms/${roomId}/sessions`, { title: 'odd' })).body.id;
    expect((await app.api(alice, 'POST', `/rooms/${roomId}/agents`, { key: 'writer', name: 'Writer' })).status).toBe(201);
  });
  afterAll(() => app?.close());

  const count = (entity: any, where: object = {}) => app.orm.em.fork().count(entity, where);
  const expect400 = (r: { status: number; body: any }, code = 'VALIDATION_FAILED') => {
    expect(r.status, JSON.stringify(r.body)).toBe(400);
    expect(r.body.error.code).toBe(code);
  };

  describe('a NUL character in a string that would be stored', () => {
    const NUL = 'a\u0000b';

    it('room name and settings (values and keys)', async () => {
      const before = await count(Room);
      expect400(await app.api(alice, 'POST', '/rooms', { name: NUL }));
      expect400(await app.api(alice, 'POST', '/rooms', { name: 'ok', settings: { note: NUL } }));
      expect400(await app.api(alice, 'POST', '/rooms', { name: 'ok', settings: { [NUL]: 1 } }));
      expect400(await app.api(alice, 'PATCH', `/rooms/${roomId}`, { name: NUL }));
      expect(await count(Room)).toBe(before);
      expect((await app.api(alice, 'GET', `/rooms/${roomId}`)).body.name).toBe('Odd');
    });

    it('session title', async () => {
      const before = await count(Session);
      expect400(await app.api(alice, 'POST', `/rooms/${roomId}/sessions`, { title: NUL }));
      expect(await count(Session)).toBe(before);
    });

    it('agent role prompt and name', async () => {
      const before = await count(Agent);
      expect400(await app.api(alice, 'POST', `/rooms/${roomId}/agents`, { key: 'nul', name: 'Nul', rolePrompt: NUL }));
      expect400(await app.api(alice, 'PATCH', `/rooms/${roomId}/agents/writer`, { name: NUL }));
      expect(await count(Agent)).toBe(before);
    });

    it('a member added by sub', async () => {
      const before = await count(User);
      expect400(await app.api(alice, 'POST', `/rooms/${roomId}/members`, { sub: NUL }));
      expect(await count(User)).toBe(before);
    });

    it('message content over the socket', async () => {
      const client = new TestClient(app.url, alice);
      try {
        await client.connected();
        const before = await count(Message);
        const ack = await client.request('message:send', { roomId, sessionId, clientMsgId: clientMsgId(), content: `hello ${NUL}` });
        expect(ack).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
        expect(await count(Message)).toBe(before);
      } finally {
        client.close();
      }
    });

    it('the JWT name or sub: TOKEN_INVALID, no user made, over REST and the socket handshake', async () => {
      const sign = (claims: object) => jwt.sign(claims, TEST_JWT_SECRET, { algorithm: 'HS256', issuer: iss, audience: aud, expiresIn: 600 });
      const before = await count(User);
      for (const token of [sign({ sub: 'nul-name', name: NUL }), sign({ sub: NUL })]) {
        const r = await app.api(token, 'GET', '/auth/me');
        expect(r.status).toBe(401);
        expect(r.body.error.code).toBe('TOKEN_INVALID');
        const client = new TestClient(app.url, token, { autoConnect: false });
        const refused = await client.connected().then(
          () => null,
          (err: Error & { data?: { code?: string } }) => err.data?.code,
        );
        client.close();
        expect(refused).toBe('TOKEN_INVALID');
      }
      expect(await count(User)).toBe(before);
    });
  });

  describe('cursors', () => {
    const cursor = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
    const id = '00000000-0000-4000-8000-000000000000';
    const bad = [
      ['a year before 1', cursor(`0000-01-01T00:00:00.000Z|${id}`)],
      ['a negative year', cursor(`-271821-04-20T00:00:00.000Z|${id}`)],
      ['a six-digit year', cursor(`+275760-09-13T00:00:00.000Z|${id}`)],
      ['a date JavaScript reads loosely', cursor(`1 2 3|${id}`)],
      ['a dashes-only id', cursor(`2024-01-01T00:00:00.000Z|${'-'.repeat(36)}`)],
      ['an id that is hex but not a UUID', cursor(`2024-01-01T00:00:00.000Z|${'f'.repeat(36)}`)],
    ] as const;
    for (const [what, before] of bad) {
      it(`refuses ${what} on every paged list`, async () => {
        for (const path of ['/rooms', `/rooms/${roomId}/sessions`, `/sessions/${sessionId}/messages`, `/rooms/${roomId}/files`]) {
          expect400(await app.api(alice, 'GET', `${path}?before=${before}`));
        }
      });
    }

    it('still pages with the cursors it hands out', async () => {
      const page = await app.api(alice, 'GET', `/rooms/${roomId}/sessions?limit=1`);
      await app.api(alice, 'POST', `/rooms/${roomId}/sessions`, { title: 'second' });
      const p1 = await app.api(alice, 'GET', `/rooms/${roomId}/sessions?limit=1`);
      const p2 = await app.api(alice, 'GET', `/rooms/${roomId}/sessions?limit=1&before=${p1.body.nextCursor}`);
      expect(page.status).toBe(200);
      expect(p2.status).toBe(200);
      expect(p2.body.items).toHaveLength(1);
    });
  });

  it('a path parameter that is not valid percent-encoding', async () => {
    for (const path of ['/rooms/%E0%A4%A', '/rooms/%E0%A4%A/agents', '/sessions/%ZZ/messages', `/rooms/${roomId}/agents/%C3`]) {
      const r = await app.api(alice, 'GET', path);
      expect(r.status, path).toBe(400);
      expect(r.body.error.code, path).toBe('VALIDATION_FAILED');
    }
  });

  it('a body with a Content-Encoding the server does not speak', async () => {
    const before = await count(Room);
    for (const encoding of ['bogus', 'gzip', 'br, bogus']) {
      const r = await app.api(alice, 'POST', '/rooms', JSON.stringify({ name: 'zipped?' }), { 'content-type': 'application/json', 'content-encoding': encoding });
      expect(r.status, encoding).toBeGreaterThanOrEqual(400);
      expect(r.status, encoding).toBeLessThan(500);
      expect(['UNSUPPORTED_MEDIA_TYPE', 'VALIDATION_FAILED', 'MALFORMED_JSON']).toContain(r.body.error.code);
    }
    expect(await count(Room)).toBe(before);
  });

  it('answers a rejected token with one fixed message that discloses nothing of the configuration', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const hs = (opts: jwt.SignOptions) => jwt.sign({ sub: 'mallory' }, TEST_JWT_SECRET, { algorithm: 'HS256', expiresIn: 600, issuer: iss, audience: aud, ...opts });
    const tokens = [
      hs({ issuer: 'https://evil.example' }),
      hs({ audience: 'someone-else' }),
      jwt.sign({ sub: 'mallory' }, privateKey, { algorithm: 'RS256', expiresIn: 600, issuer: iss, audience: aud }),
      jwt.sign({ sub: 'mallory' }, 'another-secret-that-is-long-enough-000000', { algorithm: 'HS256', expiresIn: 600, issuer: iss, audience: aud }),
      'not.a.jwt',
      'x'.repeat(9000),
    ];
    const messages = new Set<string>();
    for (const token of tokens) {
      const r = await app.api(token, 'GET', '/auth/me');
      expect(r.status).toBe(401);
      expect(r.body.error.code).toBe('TOKEN_INVALID');
      messages.add(r.body.error.message);
      expect(JSON.stringify(r.body)).not.toMatch(/id\.example|odd-input|expected|algorithm|HS256|RS256|secret|signature/i);
    }
    expect([...messages]).toEqual(['The token is not valid']);
  });

  it('sends nosniff everywhere and no-store on authenticated answers', async () => {
    const health = await fetch(`${app.url}/api/v1/health`);
    expect(health.headers.get('x-content-type-options')).toBe('nosniff');
    for (const [token, path] of [
      [alice, `/rooms/${roomId}`],
      [alice, '/rooms/00000000-0000-4000-8000-000000000000'],
      [undefined, '/rooms'],
    ] as const) {
      const res = await fetch(`${app.url}/api/v1${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('cache-control'), path).toBe('no-store');
    }
  });

  it('decodes a multipart file name sent in raw UTF-8 as UTF-8', async () => {
    const form = new FormData();
    form.append('file', new Blob([new TextEncoder().encode('hello')]), 'Résumé – 履歴書.txt');
    const res = await fetch(`${app.url}/api/v1/rooms/${roomId}/files`, { method: 'POST', headers: { authorization: `Bearer ${alice}` }, body: form });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    expect((await app.orm.em.fork().findOneOrFail(StoredFile, { id })).filename).toBe('Résumé – 履歴書.txt');
  });
});
