import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { User } from '../../../src/db/entities';
import { startTestApp, testDb, TEST_JWT_SECRET, type TestApp } from '../../helpers/test-app';

describe(`JWT auth on ${testDb()}`, () => {
  let app: TestApp;
  const iss = 'https://id.example.test';
  const aud = 'pantheon-test';

  beforeAll(async () => {
    app = await startTestApp({ env: { JWT_ISSUER: iss, JWT_AUDIENCE: aud } });
  });
  afterAll(() => app?.close());

  const me = (token: string | undefined) => app.api(token, 'GET', '/auth/me');
  const users = () => app.orm.em.fork().count(User);
  const sign = (claims: object, opts: jwt.SignOptions & { noExpiry?: boolean } = {}, key = TEST_JWT_SECRET) => {
    const { noExpiry, ...rest } = opts;
    const options: jwt.SignOptions = { algorithm: 'HS256', issuer: iss, audience: aud, ...(noExpiry ? {} : { expiresIn: 600 }), ...rest };
    return jwt.sign({ sub: 'mallory', ...claims }, key, options);
  };

  it('accepts a token with the configured issuer and audience', async () => {
    const r = await me(app.token('alice'));
    expect(r.status).toBe(200);
    expect(r.body.user.sub).toBe('alice');
  });

  const rejected: [string, () => string | undefined, string][] = [
    ['no token', () => undefined, 'UNAUTHENTICATED'],
    [
      'alg none',
      () => {
        const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
        const body = Buffer.from(
          JSON.stringify({ sub: 'mallory', iss, aud, exp: Math.floor(Date.now() / 1000) + 600 }),
        ).toString('base64url');
        return `${header}.${body}.`;
      },
      'TOKEN_INVALID',
    ],
    ['a wrong key', () => sign({}, {}, 'another-secret-that-is-long-enough-000000'), 'TOKEN_INVALID'],
    ['expired', () => sign({ exp: Math.floor(Date.now() / 1000) - 3600 }, { noExpiry: true }), 'TOKEN_EXPIRED'],
    ['no exp', () => sign({}, { noExpiry: true }), 'TOKEN_INVALID'],
    ['a wrong issuer', () => sign({}, { issuer: 'https://evil.example' }), 'TOKEN_INVALID'],
    ['a wrong audience', () => sign({}, { audience: 'someone-else' }), 'TOKEN_INVALID'],
    ['garbage', () => 'not.a.jwt', 'TOKEN_INVALID'],
  ];

  for (const [name, make, code] of rejected) {
    it(`rejects ${name} with ${code} and creates no user`, async () => {
      const before = await users();
      const r = await me(make());
      expect(r.status).toBe(401);
      expect(r.body.error.code).toBe(code);
      expect(await users()).toBe(before);
    });
  }

  it('rejects an RS256-signed token when the server uses HMAC (no algorithm confusion)', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const token = jwt.sign({ sub: 'mallory' }, privateKey, { algorithm: 'RS256', expiresIn: 600, issuer: iss, audience: aud });
    const r = await me(token);
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('TOKEN_INVALID');
  });
});
