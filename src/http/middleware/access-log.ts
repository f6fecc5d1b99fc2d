import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from '../../shared/logger';
import type { Metrics } from '../../shared/metrics';

declare module 'express-serve-static-core' {
  interface Request {
    /** The request's id: the caller's `X-Request-Id` when it is a plain token, else a new UUID. */
    id?: string;
  }
}

/** A request id a load balancer or client may pass on; anything else is replaced, not logged. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * One line per request: its id (echoed as `X-Request-Id`), method, path (no query string: it may
 * carry cursors), route pattern, status, time, user. The route pattern (`/rooms/:roomId`), not
 * the path, labels the request counter, so ids do not multiply its series.
 */
export function accessLog(logger: Logger, metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    const given = req.headers['x-request-id'];
    req.id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    res.setHeader('X-Request-Id', req.id);
    res.on('finish', () => {
      const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
      metrics.httpRequest(req.method, route, res.statusCode);
      logger.info('http', {
        requestId: req.id,
        method: req.method,
        path: req.originalUrl.split('?')[0],
        route,
        status: res.statusCode,
        ms: Math.round(performance.now() - started),
        ...(req.user ? { userId: req.user.id } : {}),
      });
    });
    next();
  };
}
