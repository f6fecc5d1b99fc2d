import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parseMcpServers, type McpServerConfig } from './mcp-servers';
import { DEMO_ALIAS, parseModelTable, type ModelAlias } from './models';

export type { McpServerConfig } from './mcp-servers';

/**
 * Every setting the server reads from its environment, parsed once at start.
 * A bad value stops start-up with a message naming the variable (see `ConfigError`).
 */
const intFrom = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(def);

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v));

/** A limit that is unlimited when unset or empty. */
const optionalLimit = (schema: z.ZodType<number, unknown>) =>
  optionalString.pipe(z.union([z.undefined(), schema as z.ZodType<number, string>]));

const envSchema = z.object({
  PORT: intFrom(3000, 0, 65535),
  HOST: z.string().default('0.0.0.0'),
  DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: optionalString.pipe(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional(),
  ),
  /** Pool size per process for PostgreSQL. */
  DATABASE_POOL_MAX: intFrom(10, 1, 200),
  REDIS_URL: optionalString.pipe(
    z
      .string()
      .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
      .optional(),
  ),
  /** Prefix of every Redis key this deployment writes; lets deployments (and tests) share a Redis. */
  REDIS_KEY_PREFIX: z.string().regex(/^[A-Za-z0-9:_-]{1,64}$/, 'letters, digits, : _ - only').default('pantheon:'),
  JWT_SECRET: optionalString.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
  JWT_PUBLIC_KEY: optionalString,
  JWT_ISSUER: optionalString,
  JWT_AUDIENCE: optionalString,
  CORS_ORIGINS: optionalString,
  MODELS: optionalString,
  OPENAI_API_KEY: optionalString,
  OPENAI_BASE_URL: optionalString.pipe(z.string().url().optional()),
  DEFAULT_MODEL_ALIAS: optionalString,
  TAVILY_API_KEY: optionalString,
  TAVILY_BASE_URL: optionalString.pipe(z.string().url().optional()),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  /** When set, GET /metrics asks for `Authorization: Bearer <METRICS_TOKEN>`. */
  METRICS_TOKEN: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  NODE_ENV: optionalString,
  /** Sign-in by name alone (`POST /api/v1/auth/dev-login`), for trying the web room locally. */
  DEV_LOGIN: z.enum(['true', 'false', '1', '0', '']).optional(),
  /** The built web room (`npm run build:web`), served at `/`; nothing is served when the folder is missing. */
  WEB_DIR: z.string().min(1).default('./dist/web'),
  /** Whether a bot's token may create rooms (bots are otherwise added to rooms by people). */
  BOTS_MAY_CREATE_ROOMS: z
    .enum(['true', 'false', '1', '0'], { message: 'must be true or false' })
    .default('false')
    .transform((v) => v === 'true' || v === '1'),

  // limits
  MAX_JSON_BODY_BYTES: intFrom(64 * 1024, 1024, 16 * 1024 * 1024),
  /** The chat endpoint's body: an AI SDK client sends the whole conversation with each message. */
  MAX_CHAT_BODY_BYTES: intFrom(1024 * 1024, 1024, 16 * 1024 * 1024),
  MAX_SOCKET_PAYLOAD_BYTES: intFrom(64 * 1024, 1024, 16 * 1024 * 1024),
  MAX_MESSAGE_CHARS: intFrom(16_000, 1, 1_000_000),
  MAX_UPLOAD_BYTES: intFrom(20 * 1024 * 1024, 1, 1024 * 1024 * 1024),
  /** Uploads whose bodies are being received at once, per user and in all, per node. */
  MAX_UPLOADS_PER_USER: intFrom(3, 1, 1000),
  MAX_UPLOADS_TOTAL: intFrom(16, 1, 100_000),
  /** An upload body that sends no byte for this long is cut (408 UPLOAD_TIMEOUT). */
  UPLOAD_IDLE_TIMEOUT_MS: intFrom(30_000, 100, 3_600_000),
  /** An upload body must be complete this long after its request arrived, however steadily it drips. */
  UPLOAD_TIMEOUT_MS: intFrom(240_000, 100, 3_600_000),
  RATE_LIMIT_MESSAGES_PER_MINUTE: intFrom(30, 1, 100_000),
  RATE_LIMIT_REQUESTS_PER_MINUTE: intFrom(600, 1, 1_000_000),
  /** Inbound socket events a second: per socket, and per user over all their sockets on a node. */
  SOCKET_EVENTS_PER_SECOND: intFrom(20, 1, 100_000),
  USER_EVENTS_PER_SECOND: intFrom(60, 1, 1_000_000),
  /** Invalid socket events in a row (bad payload, unknown event) before the socket is dropped. */
  MAX_INVALID_SOCKET_EVENTS: intFrom(20, 1, 100_000),
  /** Sockets one user may hold open on one node. */
  MAX_SOCKETS_PER_USER: intFrom(20, 1, 100_000),
  MAX_OUTPUT_TOKENS: intFrom(1024, 1, 200_000),
  MANAGER_MAX_TOKENS: intFrom(256, 1, 200_000),
  SUMMARY_MAX_TOKENS: intFrom(512, 1, 200_000),
  CONTEXT_BUDGET_TOKENS: intFrom(6000, 100, 2_000_000),
  RECENT_MESSAGES: intFrom(20, 1, 500),
  MODEL_TIMEOUT_MS: intFrom(60_000, 100, 3_600_000),
  TURN_RECURSION_LIMIT: intFrom(25, 1, 1000),
  DELTA_FLUSH_MS: intFrom(40, 0, 10_000),
  /** Presence changes within this long of the last one published in a room go out together (0: each at once). */
  PRESENCE_BATCH_MS: intFrom(200, 0, 10_000),
  /** How long an agent's last text and `agent:end` may wait for the turn's next event (the last agent's: the commit); 0: at once. */
  AGENT_END_HOLD_MS: intFrom(50, 0, 10_000),
  /** On SIGTERM, how long running turns may take to finish before they are cancelled. */
  SHUTDOWN_GRACE_MS: intFrom(10_000, 0, 600_000),
  /** How often a node proves it still works on its turns, and checkpoints the text they streamed. */
  TURN_HEARTBEAT_MS: intFrom(5_000, 10, 600_000),
  /** A turn whose heartbeat is older than this belongs to a node that died; the sweep takes it over. */
  TURN_STALE_AFTER_MS: intFrom(30_000, 50, 3_600_000),
  /** How often each node sweeps: stale turns, turns not announced yet, sessions nobody runs. */
  TURN_SWEEP_MS: intFrom(10_000, 10, 24 * 3_600_000),
  REPLAY_LOG_MAX_EVENTS: intFrom(2000, 10, 1_000_000),
  REPLAY_LOG_TTL_SECONDS: intFrom(3600, 1, 7 * 24 * 3600),
  CSV_MAX_ROWS: intFrom(50_000, 1, 10_000_000),
  PDF_MAX_PAGES: intFrom(500, 1, 100_000),
  PARSE_TIMEOUT_MS: intFrom(30_000, 100, 3_600_000),
  /** A parse thread's JS heap, and separately its buffers outside the heap; one PDF stream may inflate to half of it. */
  PARSE_MEMORY_MB: intFrom(256, 32, 16_384),

  // caps on what one user can make the server hold or spend (docs/security.md)
  MAX_ROOMS_PER_USER: intFrom(100, 1, 1_000_000),
  MAX_AGENTS_PER_ROOM: intFrom(12, 1, 1000),
  MAX_SESSIONS_PER_ROOM: intFrom(200, 1, 1_000_000),
  MAX_QUEUED_TURNS_PER_SESSION: intFrom(10, 1, 10_000),
  /** Turns one sender may have waiting in one session, so one member cannot fill its queue. */
  MAX_QUEUED_TURNS_PER_SENDER: intFrom(3, 1, 10_000),
  MAX_ROLE_PROMPT_CHARS: intFrom(4000, 1, 100_000),
  /** The whole system message one agent gets: persona, role, team and rules. */
  MAX_SYSTEM_PROMPT_CHARS: intFrom(8000, 2000, 1_000_000),

  // tools
  /** A tool call under `ask` that nobody answers within this counts as denied. */
  TOOL_APPROVAL_TIMEOUT_MS: intFrom(300_000, 100, 7 * 24 * 3_600_000),
  /** MCP servers (JSON list; see McpServerConfig). */
  MCP_SERVERS: optionalString,
  /** One MCP tool call, at most. */
  MCP_TOOL_TIMEOUT_MS: intFrom(30_000, 100, 3_600_000),
  /** Characters of an MCP tool's output handed to the model; the rest is cut. */
  MCP_MAX_OUTPUT_CHARS: intFrom(20_000, 100, 1_000_000),
  /** How long to wait before connecting again to an MCP server that is down (doubles up to 30 s). */
  MCP_RECONNECT_MS: intFrom(1_000, 10, 600_000),
  /** Characters of attached files' text put in the prompt of the turn's agents (all files together); the rest is read with read_file. */
  ATTACHMENT_CONTEXT_CHARS: intFrom(20_000, 0, 1_000_000),
  /** Messages one export of a session holds at most (the oldest first). */
  EXPORT_MAX_MESSAGES: intFrom(5000, 1, 1_000_000),
  // budgets (docs/api.md); unset means unlimited
  /** Tokens a room's agents may spend per UTC day; a room's `budget.dailyTokens` overrides it. */
  ROOM_DAILY_TOKENS: optionalLimit(z.coerce.number().int().positive().max(1e12)),
  /** Cost in USD a room's agents may spend per UTC day; a room's `budget.dailyCostUsd` overrides it. */
  ROOM_DAILY_COST_USD: optionalLimit(z.coerce.number().nonnegative().max(1e9)),
  /** Tokens one user's turns may spend per UTC day, across rooms. */
  USER_DAILY_TOKENS: optionalLimit(z.coerce.number().int().positive().max(1e12)),
  /** Cost in USD one user's turns may spend per UTC day, across rooms. */
  USER_DAILY_COST_USD: optionalLimit(z.coerce.number().nonnegative().max(1e9)),
  /** Output tokens one agent may produce in one turn, tool rounds included. */
  AGENT_TURN_MAX_OUTPUT_TOKENS: optionalLimit(z.coerce.number().int().positive().max(1e9)),
});

export type Env = z.infer<typeof envSchema>;

export interface JwtConfig {
  /** HMAC secret (HS256). In embedded mode without one, a secret is generated under DATA_DIR. */
  secret?: string;
  /** PEM public key (RS256 / ES256); the server then only verifies. */
  publicKey?: string;
  issuer?: string;
  audience?: string;
}

export interface AppConfig {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl?: string;
  databasePoolMax: number;
  redisUrl?: string;
  redisKeyPrefix: string;
  jwt: JwtConfig;
  corsOrigins: string[] | '*';
  models: Record<string, ModelAlias>;
  defaultModelAlias: string;
  tavily: { apiKey?: string; baseUrl?: string };
  /**
   * Every configured secret value: model keys (of the table and of OPENAI_API_KEY), the Tavily key,
   * the JWT secret, database and Redis passwords. The Redactor keeps them out of what leaves.
   */
  secrets: string[];
  logLevel: Env['LOG_LEVEL'];
  /** Bearer token GET /metrics asks for; open when unset. */
  metricsToken?: string;
  /** The built web room's folder. */
  webDir: string;
  /**
   * Sign-in by name: asked for with DEV_LOGIN=true, granted only with the embedded secret (no
   * JWT_SECRET or JWT_PUBLIC_KEY) outside NODE_ENV=production. `refused` says why it was not.
   */
  devLogin: { enabled: boolean; refused?: string };
  /** BOTS_MAY_CREATE_ROOMS: a bot token may create rooms. */
  botsMayCreateRooms: boolean;
  limits: {
    jsonBodyBytes: number;
    chatBodyBytes: number;
    socketPayloadBytes: number;
    socketEventsPerSecond: number;
    userEventsPerSecond: number;
    invalidSocketEvents: number;
    socketsPerUser: number;
    messageChars: number;
    uploadBytes: number;
    uploadsPerUser: number;
    uploadsTotal: number;
    uploadIdleTimeoutMs: number;
    uploadTimeoutMs: number;
    messagesPerMinute: number;
    requestsPerMinute: number;
    maxOutputTokens: number;
    managerMaxTokens: number;
    summaryMaxTokens: number;
    contextBudgetTokens: number;
    recentMessages: number;
    modelTimeoutMs: number;
    turnRecursionLimit: number;
    deltaFlushMs: number;
    presenceBatchMs: number;
    /** How long an agent's last text and `agent:end` may wait for the turn's next event (the last agent's: the commit); 0: sent at once. */
    agentEndHoldMs: number;
    shutdownGraceMs: number;
    replayLogMaxEvents: number;
    replayLogTtlSeconds: number;
    csvMaxRows: number;
    pdfMaxPages: number;
    parseTimeoutMs: number;
    parseMemoryMb: number;
    roomsPerUser: number;
    agentsPerRoom: number;
    sessionsPerRoom: number;
    queuedTurnsPerSession: number;
    queuedTurnsPerSender: number;
    rolePromptChars: number;
    systemPromptChars: number;
    attachmentContextChars: number;
    exportMaxMessages: number;
  };
  /** Tool approvals and MCP servers. */
  tools: {
    approvalTimeoutMs: number;
    mcpServers: McpServerConfig[];
    mcpToolTimeoutMs: number;
    mcpMaxOutputChars: number;
    mcpReconnectMs: number;
  };
  /** Default budgets (a room's settings override the room ones); undefined is unlimited. */
  budgets: BudgetDefaults;
  /** Turn scheduling across nodes: heartbeats, when a node counts as dead, the sweep. */
  turns: {
    heartbeatMs: number;
    staleAfterMs: number;
    sweepMs: number;
  };
}

export interface BudgetDefaults {
  roomDailyTokens?: number;
  roomDailyCostUsd?: number;
  userDailyTokens?: number;
  userDailyCostUsd?: number;
  agentTurnMaxOutputTokens?: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(
      'Invalid configuration:\n' + problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

/** The password of a connection URL, as written and decoded. */
function passwordOf(url: string | undefined): string[] {
  if (!url) return [];
  try {
    const password = new URL(url).password;
    return password ? [password, decodeURIComponent(password)] : [];
  } catch {
    return [];
  }
}

function devLoginOf(asked: boolean, o: { realKey: boolean; production: boolean }): AppConfig['devLogin'] {
  if (!asked) return { enabled: false };
  if (o.production) return { enabled: false, refused: 'NODE_ENV is production' };
  if (o.realKey) return { enabled: false, refused: 'a JWT_SECRET or JWT_PUBLIC_KEY is configured' };
  return { enabled: true };
}

/** Parses the environment into the app's config, or throws a ConfigError naming each bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => ({ variable: String(i.path[0] ?? '?'), message: i.message })),
    );
  }
  const e = parsed.data;
  const problems: { variable: string; message: string }[] = [];

  let publicKey = e.JWT_PUBLIC_KEY;
  if (publicKey && !publicKey.includes('BEGIN')) {
    if (existsSync(publicKey)) publicKey = readFileSync(publicKey, 'utf8');
    else problems.push({ variable: 'JWT_PUBLIC_KEY', message: 'must be a PEM key or the path of one' });
  }
  if (e.JWT_SECRET && publicKey) {
    problems.push({ variable: 'JWT_SECRET', message: 'set either JWT_SECRET or JWT_PUBLIC_KEY, not both' });
  }

  let models: Record<string, ModelAlias> = { demo: DEMO_ALIAS };
  try {
    models = parseModelTable(e.MODELS, {
      openaiApiKey: e.OPENAI_API_KEY,
      openaiBaseUrl: e.OPENAI_BASE_URL,
      env,
    });
  } catch (err) {
    problems.push({ variable: 'MODELS', message: (err as Error).message });
  }
  const defaultModelAlias =
    e.DEFAULT_MODEL_ALIAS ?? Object.keys(models).find((k) => k !== 'demo') ?? 'demo';
  if (!models[defaultModelAlias] && !problems.some((p) => p.variable === 'MODELS')) {
    problems.push({ variable: 'DEFAULT_MODEL_ALIAS', message: `unknown model alias "${defaultModelAlias}"` });
  }

  let corsOrigins: string[] | '*' = [];
  if (e.CORS_ORIGINS === '*') corsOrigins = '*';
  else if (e.CORS_ORIGINS) {
    corsOrigins = e.CORS_ORIGINS.split(',').map((s) => s.trim()).filter(Boolean);
    for (const o of corsOrigins) {
      if (!/^https?:\/\/[^/]+$/.test(o)) {
        problems.push({ variable: 'CORS_ORIGINS', message: `"${o}" is not an origin like https://app.example.com` });
      }
    }
  }

  // A live node must be able to miss a heartbeat without its turns being taken over.
  if (e.TURN_STALE_AFTER_MS < 2 * e.TURN_HEARTBEAT_MS) {
    problems.push({ variable: 'TURN_STALE_AFTER_MS', message: 'must be at least twice TURN_HEARTBEAT_MS' });
  }

  let mcpServers: McpServerConfig[] = [];
  try {
    mcpServers = parseMcpServers(e.MCP_SERVERS, env);
  } catch (err) {
    problems.push({ variable: 'MCP_SERVERS', message: (err as Error).message });
  }

  if (problems.length) throw new ConfigError(problems);

  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: path.resolve(e.DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    databasePoolMax: e.DATABASE_POOL_MAX,
    redisUrl: e.REDIS_URL,
    redisKeyPrefix: e.REDIS_KEY_PREFIX,
    jwt: { secret: e.JWT_SECRET, publicKey, issuer: e.JWT_ISSUER, audience: e.JWT_AUDIENCE },
    corsOrigins,
    models,
    defaultModelAlias,
    tavily: { apiKey: e.TAVILY_API_KEY, baseUrl: e.TAVILY_BASE_URL },
    secrets: [
      ...Object.values(models).map((m) => (m.kind === 'openai' ? m.apiKey : undefined)),
      e.OPENAI_API_KEY,
      e.TAVILY_API_KEY,
      e.JWT_SECRET,
      e.METRICS_TOKEN,
      ...passwordOf(e.DATABASE_URL),
      ...passwordOf(e.REDIS_URL),
      // MCP header values and stdio environment values come from named variables: all secrets.
      ...mcpServers.flatMap((m) => Object.values((m.transport === 'http' ? m.headers : m.env) ?? {})),
    ].filter((s): s is string => Boolean(s)),
    logLevel: e.LOG_LEVEL,
    metricsToken: e.METRICS_TOKEN,
    webDir: path.resolve(e.WEB_DIR),
    devLogin: devLoginOf(e.DEV_LOGIN === 'true' || e.DEV_LOGIN === '1', { realKey: Boolean(e.JWT_SECRET || publicKey), production: e.NODE_ENV === 'production' }),
    botsMayCreateRooms: e.BOTS_MAY_CREATE_ROOMS,
    limits: {
      jsonBodyBytes: e.MAX_JSON_BODY_BYTES,
      chatBodyBytes: e.MAX_CHAT_BODY_BYTES,
      socketPayloadBytes: e.MAX_SOCKET_PAYLOAD_BYTES,
      socketEventsPerSecond: e.SOCKET_EVENTS_PER_SECOND,
      userEventsPerSecond: e.USER_EVENTS_PER_SECOND,
      invalidSocketEvents: e.MAX_INVALID_SOCKET_EVENTS,
      socketsPerUser: e.MAX_SOCKETS_PER_USER,
      messageChars: e.MAX_MESSAGE_CHARS,
      uploadBytes: e.MAX_UPLOAD_BYTES,
      uploadsPerUser: e.MAX_UPLOADS_PER_USER,
      uploadsTotal: e.MAX_UPLOADS_TOTAL,
      uploadIdleTimeoutMs: e.UPLOAD_IDLE_TIMEOUT_MS,
      uploadTimeoutMs: e.UPLOAD_TIMEOUT_MS,
      messagesPerMinute: e.RATE_LIMIT_MESSAGES_PER_MINUTE,
      requestsPerMinute: e.RATE_LIMIT_REQUESTS_PER_MINUTE,
      maxOutputTokens: e.MAX_OUTPUT_TOKENS,
      managerMaxTokens: e.MANAGER_MAX_TOKENS,
      summaryMaxTokens: e.SUMMARY_MAX_TOKENS,
      contextBudgetTokens: e.CONTEXT_BUDGET_TOKENS,
      recentMessages: e.RECENT_MESSAGES,
      modelTimeoutMs: e.MODEL_TIMEOUT_MS,
      turnRecursionLimit: e.TURN_RECURSION_LIMIT,
      deltaFlushMs: e.DELTA_FLUSH_MS,
      presenceBatchMs: e.PRESENCE_BATCH_MS,
      agentEndHoldMs: e.AGENT_END_HOLD_MS,
      shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
      replayLogMaxEvents: e.REPLAY_LOG_MAX_EVENTS,
      replayLogTtlSeconds: e.REPLAY_LOG_TTL_SECONDS,
      csvMaxRows: e.CSV_MAX_ROWS,
      pdfMaxPages: e.PDF_MAX_PAGES,
      parseTimeoutMs: e.PARSE_TIMEOUT_MS,
      parseMemoryMb: e.PARSE_MEMORY_MB,
      roomsPerUser: e.MAX_ROOMS_PER_USER,
      agentsPerRoom: e.MAX_AGENTS_PER_ROOM,
      sessionsPerRoom: e.MAX_SESSIONS_PER_ROOM,
      queuedTurnsPerSession: e.MAX_QUEUED_TURNS_PER_SESSION,
      queuedTurnsPerSender: e.MAX_QUEUED_TURNS_PER_SENDER,
      rolePromptChars: e.MAX_ROLE_PROMPT_CHARS,
      systemPromptChars: e.MAX_SYSTEM_PROMPT_CHARS,
      attachmentContextChars: e.ATTACHMENT_CONTEXT_CHARS,
      exportMaxMessages: e.EXPORT_MAX_MESSAGES,
    },
    tools: {
      approvalTimeoutMs: e.TOOL_APPROVAL_TIMEOUT_MS,
      mcpServers,
      mcpToolTimeoutMs: e.MCP_TOOL_TIMEOUT_MS,
      mcpMaxOutputChars: e.MCP_MAX_OUTPUT_CHARS,
      mcpReconnectMs: e.MCP_RECONNECT_MS,
    },
    budgets: {
      roomDailyTokens: e.ROOM_DAILY_TOKENS,
      roomDailyCostUsd: e.ROOM_DAILY_COST_USD,
      userDailyTokens: e.USER_DAILY_TOKENS,
      userDailyCostUsd: e.USER_DAILY_COST_USD,
      agentTurnMaxOutputTokens: e.AGENT_TURN_MAX_OUTPUT_TOKENS,
    },
    turns: {
      heartbeatMs: e.TURN_HEARTBEAT_MS,
      staleAfterMs: e.TURN_STALE_AFTER_MS,
      sweepMs: e.TURN_SWEEP_MS,
    },
  };
}
