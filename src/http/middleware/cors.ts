import type { RequestHandler } from 'express';

/**
 * Origin allowlist (CORS_ORIGINS). A few lines rather than a dependency: the API is bearer-token
 * only (no cookies), so the only decision is which origins may read responses.
 */
export function cors(origins: string[] | '*'): RequestHandler {
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (origin && (origins === '*' || origins.includes(origin))) {
      res.setHeader('Access-Control-Allow-Origin', origins === '*' ? '*' : origin);
      res.setHeader('Vary', 'Origin');
      res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type');
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, PATCH, DELETE, OPTIONS');
      res.setHeader('Access-Control-Max-Age', '600');
    }
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    next();
  };
}
