import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError, toErrorBody, type ErrorCode } from '../../shared/errors';
import type { Logger } from '../../shared/logger';

/** 404 for any route not matched. */
export const notFound: RequestHandler = (_req, _res, next) => next(new AppError('NOT_FOUND', 'No such endpoint'));

/** Codes for the client errors express and body-parser raise with a 4xx status but no type of ours. */
const BY_STATUS: Partial<Record<number, ErrorCode>> = { 413: 'PAYLOAD_TOO_LARGE', 415: 'UNSUPPORTED_MEDIA_TYPE' };

/**
 * What a framework error means for the client. Body-parser failures get their own codes; a path
 * parameter that is not valid percent-encoding (the router's URIError) and any other error raised
 * with a 4xx status (a compressed body that does not inflate, an aborted upload) is the request's
 * fault, not the server's: a 4xx, never INTERNAL.
 */
function clientErrorOf(err: unknown): AppError | undefined {
  const e = err as { type?: unknown; status?: unknown; statusCode?: unknown } | null;
  const type = e?.type;
  if (type === 'entity.parse.failed') return new AppError('MALFORMED_JSON', 'Request body is not valid JSON');
  if (type === 'entity.too.large') return new AppError('PAYLOAD_TOO_LARGE', 'Request body is too large');
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') return new AppError('UNSUPPORTED_MEDIA_TYPE', 'Unsupported body encoding');
  if (err instanceof URIError) return new AppError('VALIDATION_FAILED', 'A path parameter is not valid percent-encoding');
  const status = typeof e?.status === 'number' ? e.status : e?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new AppError(BY_STATUS[status] ?? 'VALIDATION_FAILED', 'The request could not be read');
  }
  return undefined;
}

/**
 * One place that turns errors into `{ error: { code, message } }`; unknown errors are logged and
 * answered with a generic INTERNAL.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const e: unknown = err instanceof AppError ? err : (clientErrorOf(err) ?? err);
    const { status, body } = toErrorBody(e);
    if (status >= 500) logger.error('request failed', { requestId: req.id, method: req.method, path: req.path, err });
    if (res.headersSent) return;
    res.status(status).json({ error: body });
  };
}
