import { describe, expect, it } from 'vitest';
import { signToken, TokenVerifier } from '../../../src/auth/jwt';
import type { Logger } from '../../../src/shared/logger';

const SECRET = 'unit-secret-0123456789-abcdefghijklmnop';

describe('TokenVerifier', () => {
  it('answers every rejection with one message and logs the reason', () => {
    const logged: { msg: string; fields: unknown }[] = [];
    const logger = { info: (msg: string, fields: unknown) => logged.push({ msg, fields }) } as unknown as Logger;
    const verifier = new TokenVerifier({ secret: SECRET, issuer: 'https://id.example', audience: 'app' }, logger);
    const wrongIssuer = signToken(SECRET, { sub: 'x' }, { issuer: 'https://evil.example', audience: 'app' });
    const nulName = signToken(SECRET, { sub: 'x', name: 'a\u0000b' }, { issuer: 'https://id.example', audience: 'app' });
    for (const token of [wrongIssuer, nulName]) {
      expect(() => verifier.verify(token)).toThrow(expect.objectContaining({ code: 'TOKEN_INVALID', message: 'The token is not valid' }));
    }
    expect(logged).toEqual([
      { msg: 'token rejected', fields: { reason: 'jwt issuer invalid. expected: https://id.example' } },
      { msg: 'token rejected', fields: { reason: 'claim "name": must not contain the NUL character' } },
    ]);
  });
});
