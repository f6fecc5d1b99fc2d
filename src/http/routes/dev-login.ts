import express, { Router } from 'express';
import { z } from 'zod';
import type { RateLimiter } from '../../infra/rate-limiter';
import { body } from '../middleware/validate';

/** Signs a token for a name; built by the composition root only when dev login is enabled. */
export type DevLoginSigner = (claims: { sub: string; name: string }) => { token: string; expiresInSeconds: number };

export const devLoginBody = z.strictObject({
  name: z
    .string()
    .trim()
    .min(1)
    .max(60)
    .regex(/^[^\p{Cc}\p{Cf}]+$/u, 'letters, digits, spaces and punctuation only'),
});

/** The user a name signs in as: the same name is the same user, whatever its case or spacing. */
export const devSubOf = (name: string) => `dev:${name.trim().toLowerCase().replace(/\s+/g, '-')}`;

/**
 * `POST /auth/dev-login { name }`: a token for that name, no password. Mounted only with
 * DEV_LOGIN=true, the embedded secret and NODE_ENV other than production (src/config); otherwise
 * the path does not exist (404). Limited per address, before any body is read.
 */
export function devLoginRoutes(sign: DevLoginSigner, limiter: RateLimiter, jsonBodyBytes: number): Router {
  const r = Router();
  r.post(
    '/auth/dev-login',
    async (req, res, next) => {
      try {
        await limiter.hit(`dev-login:${req.ip ?? 'unknown'}`, 30, 60);
      } catch (err) {
        const retry = (err as { details?: { retryAfterSeconds?: number } }).details?.retryAfterSeconds;
        if (retry) res.setHeader('Retry-After', String(retry));
        throw err;
      }
      next();
    },
    express.json({ limit: Math.min(jsonBodyBytes, 4096), strict: true }),
    (req, res) => {
      const { name } = body(req, devLoginBody);
      const sub = devSubOf(name);
      const { token, expiresInSeconds } = sign({ sub, name });
      res.status(201).json({ token, expiresInSeconds, sub, displayName: name });
    },
  );
  return r;
}
