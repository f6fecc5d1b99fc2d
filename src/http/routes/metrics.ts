import { createHash, timingSafeEqual } from 'node:crypto';
import { Router } from 'express';
import type { PromMetrics } from '../../infra/metrics';
import { AppError } from '../../shared/errors';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Prometheus scrapes `GET /metrics` (outside /api/v1, where scrapers look). With METRICS_TOKEN
 * set it asks for that bearer token, compared in constant time; without, it is open (keep the
 * port private, or set the token).
 */
export function metricsRoutes(metrics: Pick<PromMetrics, 'render'>, token: string | undefined): Router {
  const r = Router();
  const expected = token ? digest(token) : undefined;
  r.get('/metrics', async (req, res) => {
    if (expected) {
      const given = req.headers.authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
      if (!given) throw new AppError('UNAUTHENTICATED', 'A bearer token is required');
      if (!timingSafeEqual(digest(given), expected)) throw new AppError('TOKEN_INVALID', 'The token is not valid');
    }
    const { contentType, body } = await metrics.render();
    res.setHeader('Cache-Control', 'no-store');
    res.type(contentType).send(body);
  });
  return r;
}
