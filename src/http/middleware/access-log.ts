import type { RequestHandler } from 'express';
import type { Logger } from '../../shared/logger';

/** One line per request: method, path (no query string: it may carry cursors), status, time, user. */
export function accessLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    res.on('finish', () => {
      logger.info('http', {
        method: req.method,
        path: req.originalUrl.split('?')[0],
        status: res.statusCode,
        ms: Math.round(performance.now() - started),
        ...(req.user ? { userId: req.user.id } : {}),
      });
    });
    next();
  };
}
