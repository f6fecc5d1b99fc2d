import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import { TokenVerifier, resolveJwtSecret, signToken } from './auth/jwt';
import type { AppConfig } from './config/config';
import { migrateUp, openOrm, type Orm } from './db/orm';
import { createRoomEvents, type RoomEvents } from './events/room-events';
import { DbFileContentReader } from './files/service/file-content-reader';
import { createFilePipeline } from './files/file-pipeline';
import { FileService } from './files/service/file-service';
import { buildHttpApp } from './http/http-app';
import { memoryRateLimiter, redisRateLimiter, type RateLimiter } from './infra/rate-limiter';
import { ensureWritableDataDir, lockDataDir } from './infra/data-dir';
import { assertRedisReachable, createRedis, quitRedis } from './infra/redis';
import { createModelProvider } from './llm/model-provider';
import { createRealtime, type Realtime } from './realtime/socket-server';
import { RoomAccess } from './rooms/access';
import { AgentService } from './rooms/agent-service';
import { RoomService } from './rooms/room-service';
import { SearchService } from './rooms/search-service';
import { RoomStreams } from './rooms/room-streams';
import { SessionService } from './rooms/session-service';
import { UserService } from './rooms/user-service';
import type { HealthChecks, Services } from './services';
import { DomainEvents } from './shared/domain-events';
import { createLogger, type LogDestination, type Logger } from './shared/logger';
import { createPromMetrics, type PromMetrics } from './infra/metrics';
import type { Clock } from './shared/clock';
import { createRedactor, type Redactor } from './shared/redactor';
import { ToolCatalog } from './tools/catalog';
import { McpTools } from './tools/mcp/mcp-tools';
import { createTavilySearch } from './tools/search-provider';
import { createTurnEngine } from './turns/turn-engine';
import type { SchedulerProbes } from './turns/turn-scheduler';

export interface App {
  /** Base URL, e.g. http://127.0.0.1:3000 */
  url: string;
  port: number;
  config: AppConfig;
  orm: Orm;
  services: Services;
  logger: Logger;
  httpServer: HttpServer;
  /** The express app the HTTP server runs (its router stack lists the routes). */
  httpApp: ReturnType<typeof buildHttpApp>;
  /** The room event pipeline (sequenced publishing and the replay log). */
  roomEvents: RoomEvents;
  realtime: Realtime;
  /** This instance's Prometheus registry (served at /metrics). */
  metrics: PromMetrics;
  close(): Promise<void>;
}

/**
 * The composition root: builds the whole server from a config, bottom up: the database and Redis,
 * the room event pipeline, the services (complete), and last the transports that call them.
 * Embedded (PGlite, in-memory events, in-process queue) when DATABASE_URL/REDIS_URL are absent;
 * PostgreSQL/Redis when set. `main.ts` and every test start the server through this.
 */
export interface AppOptions {
  logger?: Logger;
  /** Where the app's own (redacting) logger writes; stdout by default. */
  logDestination?: LogDestination;
  /** Tests only: act at exact points of the turn scheduler's loop. */
  turnProbes?: SchedulerProbes;
  /** Tests only: the clock daily budgets are counted in. */
  clock?: Clock;
}

export async function createApp(config: AppConfig, opts: AppOptions = {}): Promise<App> {
  // Secrets never leave: every log line, and every error text members, the database or a model
  // may see, goes through one Redactor. The embedded JWT secret joins it once it is known.
  let redactor: Redactor = createRedactor(config.secrets);
  const logger = opts.logger ?? createLogger(config.logLevel, {}, (line) => redactor.redact(line), opts.logDestination);
  const metrics = createPromMetrics();
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
    // DATA_DIR holds the embedded database, its JWT secret and uploaded files.
    ensureWritableDataDir(config.dataDir);
    if (!config.databaseUrl) {
      const unlock = lockDataDir(config.dataDir);
      closers.push(async () => unlock());
    }
    const secret = resolveJwtSecret(config);
    redactor = createRedactor([...config.secrets, secret]);
    const verifier = new TokenVerifier({ ...config.jwt, secret }, logger);

    const health: HealthChecks = {};
    // Redis (scaled mode): room events and node signals, the Socket.IO adapter, rate limits.
    let redis: { pub: Redis; sub: Redis; adapterSub: Redis } | undefined;
    let rateLimiter: RateLimiter = memoryRateLimiter();
    if (config.redisUrl) {
      // Connection names carry the key prefix, so operators (and tests) can tell deployments apart.
      const named = (role: string) => createRedis(config.redisUrl!, logger, `${config.redisKeyPrefix}${role}`);
      const conns = { pub: named('pub'), sub: named('sub'), adapterSub: named('adapter-sub') };
      redis = conns;
      closers.push(() => Promise.all([quitRedis(conns.pub), quitRedis(conns.sub), quitRedis(conns.adapterSub)]));
      await assertRedisReachable(conns.pub, config.redisUrl);
      rateLimiter = redisRateLimiter(conns.pub, config.redisKeyPrefix, logger);
      health.redis = () => conns.pub.ping();
    }

    const orm = await openOrm(config);
    closers.push(() => orm.close(true));
    const applied = await migrateUp(orm);
    if (applied.length) logger.info('migrations applied', { applied });
    health.database = () => orm.em.fork().getConnection().execute('select 1');

    const roomEvents = await createRoomEvents({ config, logger, redis });
    closers.push(() => roomEvents.close());

    // Services, complete before any transport exists.
    const events = new DomainEvents();
    const access = new RoomAccess(orm);
    const models = createModelProvider(config.models);
    const fileReader = new DbFileContentReader(orm);
    const search = config.tavily.apiKey
      ? createTavilySearch({ apiKey: config.tavily.apiKey, baseUrl: config.tavily.baseUrl })
      : undefined;
    // MCP servers: connected in the background (a server that is down never fails the start; it is
    // tried again), their tools offered while they are up.
    const mcp = config.tools.mcpServers.length
      ? new McpTools({
          servers: config.tools.mcpServers,
          callTimeoutMs: config.tools.mcpToolTimeoutMs,
          maxOutputChars: config.tools.mcpMaxOutputChars,
          reconnectMs: config.tools.mcpReconnectMs,
          logger,
          redactor,
        })
      : undefined;
    if (mcp) {
      closers.push(() => mcp.close());
      await mcp.start();
    }
    const toolCatalog = new ToolCatalog({ searchConfigured: Boolean(search), mcp });
    const turnEngine = await createTurnEngine({
      orm,
      config,
      broadcaster: roomEvents.broadcaster,
      bus: roomEvents.bus,
      models,
      toolDeps: (roomId) => ({ roomId, search, files: fileReader, redactor, mcp }),
      logger,
      metrics,
      probes: opts.turnProbes,
      clock: opts.clock,
    });
    // On close, services stop first (running turns finish within the grace period and still reach
    // their clients), then the transports, the event pipeline and the connections.
    let stopFiles = async () => {};
    const stopServices = once(async () => {
      await turnEngine.close();
      await stopFiles();
    });
    closers.push(stopServices);
    // Embedded: parse in this process. Scaled: enqueue on BullMQ; `npm run worker` parses.
    const filePipeline = await createFilePipeline({
      config,
      orm,
      broadcaster: roomEvents.broadcaster,
      logger,
      role: config.redisUrl ? 'producer' : 'embedded',
    });
    stopFiles = () => filePipeline.close();
    health.queue = () => filePipeline.health();
    const files = new FileService(orm, access, filePipeline, events);
    const services: Services = {
      users: new UserService(orm),
      rooms: new RoomService(orm, events, { ...config.limits, botsMayCreateRooms: config.botsMayCreateRooms }, () => Object.keys(config.models), files),
      agents: new AgentService(orm, events, () => Object.keys(config.models), config.defaultModelAlias, config.limits, (name) => toolCatalog.has(name)),
      sessions: new SessionService(orm, config.limits, events),
      search: new SearchService(orm),
      access,
      turns: turnEngine.turns,
      approvals: turnEngine.approvals,
      tools: toolCatalog,
      messages: turnEngine.messages,
      files,
      streams: new RoomStreams(orm, roomEvents),
    };

    // Transports last.
    // Dev login: a token for a name, only with the embedded secret and outside production.
    if (config.devLogin.refused) logger.warn('DEV_LOGIN is ignored', { reason: config.devLogin.refused });
    const devLogin =
      config.devLogin.enabled && secret
        ? (claims: { sub: string; name: string }) => {
            const expiresInSeconds = 12 * 3600;
            return { token: signToken(secret, claims, { issuer: config.jwt.issuer, audience: config.jwt.audience, expiresInSeconds }), expiresInSeconds };
          }
        : undefined;
    if (devLogin) logger.warn('dev login is enabled: anyone who reaches this server can sign in by name', {});
    const httpApp = buildHttpApp({ config, services, verifier, health, logger, rateLimiter, metrics, devLogin });
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
    const realtime = await createRealtime({
      httpServer,
      config,
      verifier,
      services,
      events,
      roomEvents,
      rateLimiter,
      logger,
      metrics,
      ...(redis ? { adapterRedis: { pub: redis.pub, sub: redis.adapterSub } } : {}),
    });
    closers.push(() => realtime.close());
    closers.push(stopServices);

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
    logger.info('listening', startupBanner(config, url));

    return { url, port, config, orm, services, logger, httpServer, httpApp, roomEvents, realtime, metrics, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * The start-up line an operator reads first: where it listens, in which mode, where its data
 * is, which model aliases it has and which is the default, and how to get a token.
 */
function startupBanner(config: AppConfig, url: string): Record<string, unknown> {
  return {
    url,
    mode: config.databaseUrl ? 'postgresql' : 'embedded',
    redis: Boolean(config.redisUrl),
    dataDir: config.dataDir,
    models: Object.keys(config.models),
    defaultModel: config.defaultModelAlias,
    metrics: config.metricsToken ? `${url}/metrics (bearer METRICS_TOKEN)` : `${url}/metrics`,
    token: config.jwt.publicKey
      ? 'tokens come from your identity provider (JWT_PUBLIC_KEY)'
      : 'npm run token -- --sub <user> [--name <display name>] (same JWT_SECRET or DATA_DIR as this server)',
  };
}

/** `fn` runs on the first call; later calls return the same promise. */
function once(fn: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | undefined;
  return () => (p ??= fn());
}
