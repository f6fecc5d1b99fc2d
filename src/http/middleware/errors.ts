import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError, toErrorBody } from '../../shared/errors';
import type { Logger } from '../../shared/logger';

/** 404 for any route not matched. */
export const notFound: RequestHandler = (_req, _res, next) => next(new AppError('NOT_FOUND', 'No such endpoint'));

/**
 * One place that turns errors into `{ error: { code, message } }`. Body-parser failures get their
 * own codes; unknown errors are logged and answered with a generic INTERNAL.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    let e: unknown = err;
    const type = (err as { type?: string })?.type;
    if (type === 'entity.parse.failed') e = new AppError('MALFORMED_JSON', 'Request body is not valid JSON');
    else if (type === 'entity.too.large') e = new AppError('PAYLOAD_TOO_LARGE', 'Request body is too large');
    else if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
      e = new AppError('UNSUPPORTED_MEDIA_TYPE', 'Unsupported body encoding');
    }
    const { status, body } = toErrorBody(e);
    if (status >= 500) logger.error('request failed', { method: req.method, path: req.path, err });
    if (res.headersSent) return;
    res.status(status).json({ error: body });
  };
}
