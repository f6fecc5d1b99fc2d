import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import jwt, { type Algorithm } from 'jsonwebtoken';
import { z } from 'zod';
import type { JwtConfig } from '../config/config';
import { AppError } from '../shared/errors';
import type { Logger } from '../shared/logger';

/** A claim that becomes a stored name: PostgreSQL text cannot hold a NUL character. */
const storedText = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((s) => !s.includes('\u0000'), 'must not contain the NUL character');

/** The claims a token must carry; `sub` names the user, `kind: 'bot'` marks a bot. */
const claimsSchema = z.object({
  sub: storedText(255),
  exp: z.number().int(),
  name: storedText(200).optional(),
  kind: z.enum(['human', 'bot']).optional(),
});

/**
 * The one answer to every rejected token. The reason (the issuer or audience expected, the key
 * type, the claim at fault) would tell anyone how the server is configured: it goes to the log.
 */
const REJECTED = 'The token is not valid';
export type TokenClaims = z.infer<typeof claimsSchema>;

const HMAC_ALGORITHMS: Algorithm[] = ['HS256'];
const PUBLIC_KEY_ALGORITHMS: Algorithm[] = ['RS256', 'ES256'];

export class TokenVerifier {
  private readonly key: string;
  private readonly algorithms: Algorithm[];
  constructor(
    private readonly cfg: JwtConfig & { secret?: string },
    private readonly logger?: Logger,
  ) {
    if (cfg.publicKey) {
      this.key = cfg.publicKey;
      this.algorithms = PUBLIC_KEY_ALGORITHMS;
    } else if (cfg.secret) {
      this.key = cfg.secret;
      this.algorithms = HMAC_ALGORITHMS;
    } else {
      throw new Error('TokenVerifier needs JWT_SECRET or JWT_PUBLIC_KEY');
    }
  }

  /** Verifies signature (explicit algorithms only, so `alg: none` never passes), `exp`, issuer and audience. */
  verify(token: unknown): TokenClaims {
    if (typeof token !== 'string' || token.length === 0) {
      throw new AppError('UNAUTHENTICATED', 'A bearer token is required');
    }
    if (token.length > 8192) this.reject('the token is longer than 8192 characters');
    let payload: unknown;
    try {
      payload = jwt.verify(token, this.key, {
        algorithms: this.algorithms,
        issuer: this.cfg.issuer,
        audience: this.cfg.audience,
        clockTolerance: 5,
      });
    } catch (err) {
      if (err instanceof jwt.TokenExpiredError) throw new AppError('TOKEN_EXPIRED', 'Token has expired');
      this.reject((err as Error).message);
    }
    const parsed = claimsSchema.safeParse(payload);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      this.reject(`claim "${issue?.path.join('.') || 'claims'}": ${issue?.message ?? 'invalid'}`);
    }
    return parsed.data;
  }

  private reject(reason: string): never {
    this.logger?.info('token rejected', { reason });
    throw new AppError('TOKEN_INVALID', REJECTED);
  }
}

/** Signs a token with an HMAC secret; used by `npm run token` and by tests. */
export function signToken(
  secret: string,
  claims: { sub: string; name?: string; kind?: 'human' | 'bot' },
  opts: { issuer?: string; audience?: string; expiresInSeconds?: number } = {},
): string {
  return jwt.sign({ ...claims }, secret, {
    algorithm: 'HS256',
    expiresIn: opts.expiresInSeconds ?? 24 * 3600,
    ...(opts.issuer ? { issuer: opts.issuer } : {}),
    ...(opts.audience ? { audience: opts.audience } : {}),
  });
}

/**
 * The HMAC secret in force: JWT_SECRET, or in embedded mode a secret generated once under
 * DATA_DIR (mode 0600) and reused on every start.
 */
export function resolveJwtSecret(cfg: { jwt: JwtConfig; dataDir: string; databaseUrl?: string }): string | undefined {
  if (cfg.jwt.secret || cfg.jwt.publicKey) return cfg.jwt.secret;
  if (cfg.databaseUrl) {
    throw new AppError('INTERNAL', 'JWT_SECRET or JWT_PUBLIC_KEY is required when DATABASE_URL is set');
  }
  const file = path.join(cfg.dataDir, 'jwt-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(cfg.dataDir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, secret + '\n', { mode: 0o600, flag: 'wx' });
  return secret;
}
