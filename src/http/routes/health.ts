import { Router } from 'express';
import type { HealthChecks } from '../../services';

const CHECK_TIMEOUT_MS = 2000;

/** Liveness plus readiness of each part; 503 when any part is down. */
export function healthRoutes(checks: HealthChecks): Router {
  const r = Router();
  r.get('/health', async (_req, res) => {
    const results: Record<string, { ok: boolean; error?: string }> = {};
    await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        try {
          await Promise.race([
            check(),
            new Promise((_, reject) => setTimeout(() => reject(new Error('timed out')), CHECK_TIMEOUT_MS).unref()),
          ]);
          results[name] = { ok: true };
        } catch (err) {
          results[name] = { ok: false, error: (err as Error).message.slice(0, 200) };
        }
      }),
    );
    const ok = Object.values(results).every((c) => c.ok);
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'degraded', checks: results });
  });
  return r;
}
