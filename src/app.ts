import { createServer, type Server as HttpServer } from 'node:http';
import type { Redis } from 'ioredis';
import type { AddressInfo } from 'node:net';
import { TokenVerifier, resolveJwtSecret } from './auth/jwt';
import type { AppConfig } from './config/config';
import { migrateUp, openOrm, type Orm } from './db/orm';
import { buildHttpApp } from './http/http-app';
import { AgentService } from './rooms/agent-service';
import { RoomService } from './rooms/room-service';
import { SessionService } from './rooms/session-service';
import { UserService } from './rooms/user-service';
import type { HealthChecks, Services } from './services';
import { DomainEvents } from './shared/domain-events';
import { createLogger, type Logger } from './shared/logger';
import { createRedis, quitRedis } from './infra/redis';
import { MemoryRateLimiter, RedisRateLimiter, type RateLimiter } from './realtime/rate-limiter';
import { createRealtime, type Realtime } from './realtime/socket-server';
import { createModelProvider } from './llm/model-provider';
import { createTavilySearch } from './tools/search-provider';
import { createTurnEngine } from './turns/turn-engine';
import { DbFileContentReader } from './files/file-content-reader';
import { createFilePipeline, type FilePipeline } from './files/file-pipeline';
import { FileService } from './files/file-service';
import { fileRoutes } from './http/routes/files';
import { AppError } from './shared/errors';

export interface App {
  /** Base URL, e.g. http://127.0.0.1:3000 */
  url: string;
  port: number;
  config: AppConfig;
  orm: Orm;
  services: Services;
  logger: Logger;
  httpServer: HttpServer;
  realtime: Realtime;
  close(): Promise<void>;
}

/**
 * The composition root: builds the whole server from a config. Embedded (PGlite, in-memory
 * transport, in-process queue) when DATABASE_URL/REDIS_URL are absent; PostgreSQL/Redis when set.
 * `main.ts` and every test start the server through this.
 */
export async function createApp(config: AppConfig, opts: { logger?: Logger } = {}): Promise<App> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const closers: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const c of closers.reverse()) {
      try {
        await c();
      } catch (err) {
        logger.warn('error while closing', { err });
      }
    }
    closers.length = 0;
  };

  try {
    const secret = resolveJwtSecret(config);
    const verifier = new TokenVerifier({ ...config.jwt, secret });

    const orm = await openOrm(config);
    closers.push(() => orm.close(true));
    const applied = await migrateUp(orm);
    if (applied.length) logger.info('migrations applied', { applied });

    const events = new DomainEvents();
    const services: Services = {
      users: new UserService(orm),
      rooms: new RoomService(orm, events),
      agents: new AgentService(orm, events, () => Object.keys(config.models), config.defaultModelAlias),
      sessions: new SessionService(orm),
    };
    const health: HealthChecks = {
      database: () => orm.em.fork().getConnection().execute('select 1'),
    };

    let redis: { pub: Redis; sub: Redis; adapterSub: Redis } | undefined;
    let rateLimiter: RateLimiter = new MemoryRateLimiter();
    if (config.redisUrl) {
      // Connection names carry the key prefix, so operators (and tests) can tell deployments apart.
      const named = (role: string) => createRedis(config.redisUrl!, logger, `${config.redisKeyPrefix}${role}`);
      const pub = named('pub');
      redis = { pub, sub: named('sub'), adapterSub: named('adapter-sub') };
      const conns = redis;
      closers.push(() => Promise.all([quitRedis(conns.pub), quitRedis(conns.sub), quitRedis(conns.adapterSub)]));
      rateLimiter = new RedisRateLimiter(pub, config.redisKeyPrefix);
      health.redis = () => pub.ping();
    }

    // The file pipeline needs the realtime broadcaster, which needs the HTTP server: routes reach
    // it through a getter once it exists.
    let filePipeline: FilePipeline | undefined;
    const fileRouter = fileRoutes({
      rooms: services.rooms,
      files: new FileService(orm),
      uploadBytes: config.limits.uploadBytes,
      pipeline: () => {
        if (!filePipeline) throw new AppError('UNAVAILABLE', 'File uploads are not available yet');
        return filePipeline;
      },
    });
    const httpApp = buildHttpApp({ config, services, verifier, health, logger, rateLimiter, extraRoutes: [fileRouter] });
    const httpServer = createServer(httpApp);
    httpServer.keepAliveTimeout = 65_000;
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          if (!httpServer.listening) return resolve();
          httpServer.close(() => resolve());
          httpServer.closeAllConnections();
        }),
    );
    const realtime = await createRealtime({ httpServer, config, verifier, services, events, rateLimiter, logger, redis });
    closers.push(() => realtime.close());

    const models = createModelProvider(config.models);
    const fileReader = new DbFileContentReader(orm);
    const search = config.tavily.apiKey
      ? createTavilySearch({ apiKey: config.tavily.apiKey, baseUrl: config.tavily.baseUrl })
      : undefined;
    const turnEngine = await createTurnEngine({
      orm,
      config,
      realtime,
      models,
      toolDeps: (roomId) => ({ roomId, search, files: fileReader }),
      logger,
    });
    closers.push(() => turnEngine.close());

    // Embedded: parse in this process. Scaled: enqueue on BullMQ; `npm run worker` parses.
    filePipeline = await createFilePipeline({
      config,
      orm,
      broadcaster: realtime.ctx.broadcaster,
      logger,
      role: config.redisUrl ? 'producer' : 'embedded',
    });
    const pipeline = filePipeline;
    closers.push(() => pipeline.close());
    health.queue = () => pipeline.health();
    services.turns = turnEngine.turns;

    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(config.port, config.host, () => {
        httpServer.off('error', reject);
        resolve();
      });
    });
    const port = (httpServer.address() as AddressInfo).port;
    const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
    const url = `http://${host}:${port}`;
    logger.info('listening', { url, mode: config.databaseUrl ? 'postgresql' : 'embedded', redis: Boolean(config.redisUrl) });

    return { url, port, config, orm, services, logger, httpServer, realtime, close };
  } catch (err) {
    await close();
    throw err;
  }
}
