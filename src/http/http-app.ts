import cors from 'cors';
import express, { Router, type Express } from 'express';
import type { TokenVerifier } from '../auth/jwt';
import type { AppConfig } from '../config/config';
import { presentUser } from '../rooms/presenters';
import type { HealthChecks, Services } from '../services';
import type { Logger } from '../shared/logger';
import { authenticate, currentUser } from './middleware/auth';
import { accessLog } from './middleware/access-log';
import { errorHandler, notFound } from './middleware/errors';
import { agentRoutes } from './routes/agents';
import { healthRoutes } from './routes/health';
import { roomRoutes } from './routes/rooms';
import { rateLimit } from './middleware/rate-limit';
import type { RateLimiter } from '../infra/rate-limiter';
import { fileRoutes } from './routes/files';
import { turnRoutes } from './routes/turns';
import { chatRoutes } from './routes/chat';
import { metricsRoutes } from './routes/metrics';
import { buildOpenApi } from './openapi';
import { API_PREFIX } from './route-table';
import type { PromMetrics } from '../infra/metrics';
import { noMetrics } from '../shared/metrics';
import { devLoginRoutes, type DevLoginSigner } from './routes/dev-login';
import { webRoom } from './web-room';

export interface HttpDeps {
  config: AppConfig;
  services: Services;
  verifier: TokenVerifier;
  health: HealthChecks;
  logger: Logger;
  rateLimiter: RateLimiter;
  /** Served at /metrics; requests are counted into it. */
  metrics?: PromMetrics;
  /** Present only when dev login is enabled (src/config): mounts POST /auth/dev-login. */
  devLogin?: DevLoginSigner;
}

/** The REST transport: authenticate, validate, call one service, present. */
export function buildHttpApp(d: HttpDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(accessLog(d.logger, d.metrics ?? noMetrics));
  // Every answer is JSON and means only that: browsers must not guess another type.
  app.use((_req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    next();
  });
  // The CORS_ORIGINS allowlist. Bearer tokens only, never cookies: no credentials.
  app.use(
    cors({
      origin: d.config.corsOrigins,
      methods: ['GET', 'POST', 'PATCH', 'DELETE', 'OPTIONS'],
      // Last-Event-ID: a browser resuming a chat stream; X-Request-Id: a caller's own request id.
      allowedHeaders: ['Authorization', 'Content-Type', 'Last-Event-ID', 'X-Request-Id'],
      exposedHeaders: ['X-Request-Id'],
      maxAge: 600,
    }),
  );

  if (d.metrics) app.use(metricsRoutes(d.metrics, d.config.metricsToken));

  const api = Router();
  api.use(healthRoutes(d.health, d.logger));
  // The OpenAPI document, generated once from the route table and its zod schemas.
  const openApi = buildOpenApi();
  api.get('/openapi.json', (_req, res) => {
    res.json(openApi);
  });
  // Everything past health is some user's data: no cache (shared or private) may keep it.
  api.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  // Without dev login the path does not exist, for anyone: 404 before authentication.
  if (d.devLogin) api.use(devLoginRoutes(d.devLogin, d.rateLimiter, d.config.limits.jsonBodyBytes));
  else api.post('/auth/dev-login', notFound);
  // Authenticate before reading a body: unauthenticated callers cost no parsing.
  api.use(authenticate(d.verifier, d.services.users));
  api.use(rateLimit(d.rateLimiter, d.config.limits.requestsPerMinute));
  // Before the common body parser: the chat route reads its (larger) body itself.
  api.use(chatRoutes(d.services, d.config, d.rateLimiter, d.logger));
  api.use(express.json({ limit: d.config.limits.jsonBodyBytes, strict: true, type: ['application/json', '+json'] }));
  api.get('/auth/me', (req, res) => {
    res.json({ user: presentUser(currentUser(req)) });
  });
  api.use(roomRoutes(d.services));
  api.use(agentRoutes(d.services));
  api.use(turnRoutes(d.services));
  api.use(fileRoutes(d.services, d.config.limits));

  app.use(API_PREFIX, api);
  // Anything else under /api is an unknown endpoint, never the web page.
  app.use('/api', notFound);
  const web = webRoom(d.config.webDir);
  if (web) app.use(web);
  app.use(notFound);
  app.use(errorHandler(d.logger));
  return app;
}
