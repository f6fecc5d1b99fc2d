import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { Router } from 'express';
import { notFound } from './middleware/errors';

/**
 * The built web room (dist/web) at `/`: hashed assets cached for good, the page itself never, and
 * any other GET that asks for HTML (a room's address, reloaded) answered with the page, which
 * routes itself. A strict Content-Security-Policy: the page loads only its own files and talks
 * only to this server. Without a build, nothing is mounted (the API works the same).
 */
export function webRoom(dir: string): Router | undefined {
  const index = path.join(dir, 'index.html');
  if (!existsSync(index)) return undefined;
  const r = Router();
  r.use((_req, res, next) => {
    res.setHeader(
      'Content-Security-Policy',
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    );
    res.setHeader('Referrer-Policy', 'no-referrer');
    next();
  });
  r.use(
    '/assets',
    express.static(path.join(dir, 'assets'), { immutable: true, maxAge: '365d', index: false }),
    notFound,
  );
  r.use(express.static(dir, { index: false, maxAge: 0 }));
  r.get(/.*/, (req, res, next) => {
    if (!req.accepts('html')) return next();
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(index);
  });
  return r;
}
