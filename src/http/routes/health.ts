import { Router } from 'express';
import type { HealthChecks } from '../../services';
import type { Logger } from '../../shared/logger';

const CHECK_TIMEOUT_MS = 2000;
const TIMED_OUT = 'health check timed out';

/**
 * Liveness plus readiness of each part; 503 when any part is down. Anyone may ask, so a failure
 * is named, not explained: the driver's message (hosts, users, maybe more) goes to the log.
 */
export function healthRoutes(checks: HealthChecks, logger: Logger): Router {
  const r = Router();
  r.get('/health', async (_req, res) => {
    const results: Record<string, { ok: boolean; error?: string }> = {};
    await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        try {
          await Promise.race([
            check(),
            new Promise((_, reject) => setTimeout(() => reject(new Error(TIMED_OUT)), CHECK_TIMEOUT_MS).unref()),
          ]);
          results[name] = { ok: true };
        } catch (err) {
          const timedOut = (err as Error).message === TIMED_OUT;
          results[name] = { ok: false, error: timedOut ? 'timed out' : 'unavailable' };
          logger.warn('health check failed', { check: name, err });
        }
      }),
    );
    const ok = Object.values(results).every((c) => c.ok);
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'degraded', checks: results });
  });
  return r;
}
