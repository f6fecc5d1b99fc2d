import { randomBytes, randomUUID } from 'node:crypto';
import os from 'node:os';
import { signToken } from '../src/auth/jwt';
import { ServerChild } from './child';
import { ClientPool, waitServerSockets } from './clients';
import type { BenchConfig } from './config';
import { startFakeModel, type FakeModel } from './fake-model';
import type { MemSample } from './server-child';
import { mapLimit, Samples, sleep, summarize, type Summary } from './stats';

/**
 * The real-time figures. Each server under test runs in its own child process; the clients and
 * the fake model run in this process (one clock for "token written" and "frame received").
 *
 *  pantheon-stream (DELTA_FLUSH_MS=0): memory per connection, then throughput (frames/s), then
 *      token latency without coalescing;
 *  pantheon-default (DELTA_FLUSH_MS=config.flushMs, 40 by default): token latency and turn overhead
 *      as deployed;
 *  bare: memory per connection, throughput (a broadcast of the same frames), and a relay turn
 *      (token latency and turn overhead of the least a server can do).
 */

export interface MemoryResult {
  sockets: number;
  warmupSockets: number;
  /** Sockets connected (handshake + auth) and joined per second, 50 in flight. */
  connectsPerSec: number;
  joinsPerSec: number;
  /** room:join ack time of the first and the last fifth of the joins (the room fills up meanwhile). */
  joinAckMs: { all: Summary; firstFifth: Summary; lastFifth: Summary };
  before: MemSample;
  after: MemSample;
  heapPerConnBytes: number;
  rssPerConnBytes: number;
  /** heapUsed + external + arrayBuffers */
  totalPerConnBytes: number;
}

export interface ThroughputResult {
  clients: number;
  framesPerClient: number;
  totalFrames: number;
  windowMs: number;
  framesPerSec: number;
  avgTextChars: number;
  serverCpuMs: number;
  serverCpuUsPerFrame: number;
  /** Cores used by the server / by this process (clients + fake model) during the run. */
  serverCpuShare: number;
  clientCpuShare: number;
  otherCores: number;
  complete: boolean;
  /** Bare only: the rate at each burst size (frames per turn of the event loop); the best one is reported. */
  bursts?: { burst: number; framesPerSec: number; serverCpuUsPerFrame: number; serverCpuShare: number; clientCpuShare: number; otherCores: number }[];
  burst?: number;
}

export interface LatencyResult {
  label: string;
  clients: number;
  turns: number;
  tokensPerTurn: number;
  tokenDelayMs: number;
  tokenLatencyMs: Summary;
  expectedTokens: number;
  receivedTokens: number;
  framesPerClient: number;
  /** message:send ack -> turn:end, minus the model's streaming time */
  turnOverheadMs: Summary;
  /** message:send emitted -> turn:end, minus the model's streaming time */
  sendToEndOverheadMs: Summary;
  ackMs: Summary;
  modelMs: Summary;
  serverCpuMsPerTurn: number;
  otherCores: number;
}

export interface RealtimeResults {
  pantheonStream: { memory: MemoryResult; throughput: ThroughputResult; latency: LatencyResult; startMs: number };
  pantheonDefault: { latency: LatencyResult; flushMs: number; startMs: number };
  bare: { memory: MemoryResult; throughput: ThroughputResult; latency: LatencyResult; startMs: number };
}

/** Logs with the seconds since the bench process started. */
export const log = (msg: string) => console.log(`[bench] ${(performance.now() / 1000).toFixed(1).padStart(5)} s  ${msg}`);

const perConn = (before: MemSample, after: MemSample, n: number) => ({
  heapPerConnBytes: (after.heapUsed - before.heapUsed) / n,
  rssPerConnBytes: (after.rss - before.rss) / n,
  totalPerConnBytes: (after.heapUsed + after.external + after.arrayBuffers - (before.heapUsed + before.external + before.arrayBuffers)) / n,
});

/** Busy CPU time of the whole machine, all cores, in ms. */
export function machineBusyMs(): number {
  let busy = 0;
  for (const c of os.cpus()) busy += c.times.user + c.times.nice + c.times.sys + c.times.irq;
  return busy;
}

export interface CpuUse {
  serverCpuMs: number;
  clientCpuMs: number;
  wallMs: number;
  /** Cores busy with anything else (other processes, kernel) during the run: noise, ideally ~0. */
  otherCores: number;
}

async function cpuDelta<T>(child: ServerChild, fn: () => Promise<T>): Promise<{ value: T } & CpuUse> {
  const c0 = await child.cpu();
  const p0 = process.cpuUsage();
  const m0 = machineBusyMs();
  const w0 = performance.now();
  const value = await fn();
  const wallMs = performance.now() - w0;
  const m1 = machineBusyMs();
  const c1 = await child.cpu();
  const p1 = process.cpuUsage(p0);
  const serverCpuMs = (c1.cpuUs - c0.cpuUs) / 1000;
  const clientCpuMs = (p1.user + p1.system) / 1000;
  return { value, serverCpuMs, clientCpuMs, wallMs, otherCores: Math.max(0, m1 - m0 - serverCpuMs - clientCpuMs) / wallMs };
}

/**
 * Connects and joins `n` sockets and measures the server's memory per socket, after GC. A smaller
 * warm-up wave is connected and closed before the baseline sample, so that lazily built state
 * (compiled code, pools, caches) is in both samples and not counted per socket.
 */
async function memoryRun(child: ServerChild, tokens: (string | undefined)[], roomId: string): Promise<{ result: MemoryResult; pool: ClientPool }> {
  const warmupSockets = Math.min(tokens.length, 100);
  const warm = new ClientPool(child.url);
  await warm.connect(tokens.slice(0, warmupSockets));
  await warm.joinAll(roomId);
  warm.closeAll();
  await waitServerSockets(child.sockets, 0);
  await sleep(300);
  const before = await child.mem();
  const pool = new ClientPool(child.url);
  const c0 = performance.now();
  await pool.connect(tokens);
  const c1 = performance.now();
  const joins = await pool.joinAll(roomId);
  const c2 = performance.now();
  await sleep(500);
  const after = await child.mem();
  const n = tokens.length;
  const fifth = Math.max(1, Math.floor(n / 5));
  return {
    result: {
      sockets: n,
      warmupSockets,
      connectsPerSec: (n / (c1 - c0)) * 1000,
      joinsPerSec: (n / (c2 - c1)) * 1000,
      joinAckMs: { all: summarize(joins), firstFifth: summarize(joins.slice(0, fifth)), lastFifth: summarize(joins.slice(-fifth)) },
      before,
      after,
      ...perConn(before, after, n),
    },
    pool,
  };
}

async function throughputRun(child: ServerChild, pool: ClientPool, drive: () => Promise<number>): Promise<ThroughputResult> {
  pool.reset();
  pool.recordLatency = false;
  const { value: complete, serverCpuMs, clientCpuMs, wallMs, otherCores } = await cpuDelta(child, async () => {
    const perClient = await drive();
    return pool.settle(perClient);
  });
  const windowMs = pool.lastMs - pool.firstMs;
  const clients = pool.openCount;
  return {
    clients,
    framesPerClient: pool.frames / clients,
    totalFrames: pool.frames,
    windowMs,
    framesPerSec: (pool.frames / windowMs) * 1000,
    avgTextChars: pool.textChars / Math.max(1, pool.frames),
    serverCpuMs,
    serverCpuUsPerFrame: (serverCpuMs * 1000) / Math.max(1, pool.frames),
    serverCpuShare: serverCpuMs / wallMs,
    clientCpuShare: clientCpuMs / wallMs,
    otherCores,
    complete,
  };
}

/** Sequential turns from socket 0; one warm-up turn first (not counted). */
async function latencyRun(
  label: string,
  child: ServerChild,
  pool: ClientPool,
  fake: FakeModel,
  cfg: BenchConfig,
  target: { roomId: string; sessionId: string },
): Promise<LatencyResult> {
  const turn = async (marker: string) => {
    const { turnId, sentMs, ackMs } = await pool.send(0, { ...target, content: `Please answer. ${marker}` });
    const endMs = await pool.waitTurnEnd(turnId);
    return { sentMs, ackMs, endMs, modelMs: fake.modelMsFor(marker) };
  };
  fake.plan = { tokens: 5, delayMs: cfg.tokenDelayMs };
  await turn(`bench-turn-${label}-warm`);
  await pool.settle(pool.framesBy[0] ?? 0, 30_000);
  await sleep(200);

  fake.plan = { tokens: cfg.tokens, delayMs: cfg.tokenDelayMs };
  pool.reset();
  pool.recordLatency = true;
  const overhead = new Samples();
  const sendToEnd = new Samples();
  const ack = new Samples();
  const model = new Samples();
  const { serverCpuMs, otherCores } = await cpuDelta(child, async () => {
    for (let t = 0; t < cfg.turns; t++) {
      const r = await turn(`bench-turn-${label}-${t}-${randomUUID().slice(0, 8)}`);
      if (r.modelMs === undefined) throw new Error(`${label}: the model was not called for turn ${t}`);
      overhead.push(r.endMs - r.ackMs - r.modelMs);
      sendToEnd.push(r.endMs - r.sentMs - r.modelMs);
      ack.push(r.ackMs - r.sentMs);
      model.push(r.modelMs);
    }
    // Every socket gets its frames before the latency samples are read.
    await pool.settle(pool.framesBy[0] ?? 0, 30_000);
  });
  pool.recordLatency = false;
  const clients = pool.openCount;
  return {
    label,
    clients,
    turns: cfg.turns,
    tokensPerTurn: cfg.tokens,
    tokenDelayMs: cfg.tokenDelayMs,
    tokenLatencyMs: summarize(pool.latency.values()),
    expectedTokens: cfg.turns * cfg.tokens * clients,
    receivedTokens: pool.latency.length,
    framesPerClient: pool.frames / clients,
    turnOverheadMs: summarize(overhead.values()),
    sendToEndOverheadMs: summarize(sendToEnd.values()),
    ackMs: summarize(ack.values()),
    modelMs: summarize(model.values()),
    serverCpuMsPerTurn: serverCpuMs / cfg.turns,
    otherCores,
  };
}

// ------------------------------------------------------------------ Pantheon

export interface PantheonRoom {
  roomId: string;
  sessionIds: string[];
  tokens: string[];
}

async function api(url: string, token: string, method: string, pathname: string, body?: unknown): Promise<any> {
  const res = await fetch(`${url}/api/v1${pathname}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${pathname}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** A roundtable room with one agent on the fake model, `sessions` sessions and `users` members. */
export async function setupPantheonRoom(url: string, secret: string, users: number, sessions: number): Promise<PantheonRoom> {
  const tokens = Array.from({ length: users }, (_, i) => signToken(secret, { sub: `bench-u${i}`, name: `User ${i}` }, { expiresInSeconds: 3600 }));
  const owner = tokens[0]!;
  const room = await api(url, owner, 'POST', '/rooms', { name: 'Bench', mode: 'roundtable' });
  await api(url, owner, 'POST', `/rooms/${room.id}/agents`, { key: 'bench', name: 'Bench', rolePrompt: 'You answer briefly.', modelAlias: 'fake' });
  const sessionIds: string[] = [];
  for (let s = 0; s < sessions; s++) sessionIds.push((await api(url, owner, 'POST', `/rooms/${room.id}/sessions`, { title: `bench ${s}` })).id);
  const others = Array.from({ length: users - 1 }, (_, i) => i + 1);
  await mapLimit(others, 8, (i) => api(url, owner, 'POST', `/rooms/${room.id}/members`, { sub: `bench-u${i}`, displayName: `User ${i}` }));
  return { roomId: room.id, sessionIds, tokens };
}

export function pantheonEnv(fake: FakeModel, secret: string, flushMs: number, databaseUrl?: string): Record<string, string> {
  return {
    PORT: '0',
    HOST: '127.0.0.1',
    JWT_SECRET: secret,
    LOG_LEVEL: 'silent',
    MODELS: JSON.stringify({ fake: { baseUrl: fake.baseUrl, model: 'fake-model', apiKeyEnv: 'BENCH_FAKE_KEY' } }),
    BENCH_FAKE_KEY: 'sk-bench-0000000000',
    DEFAULT_MODEL_ALIAS: 'fake',
    DELTA_FLUSH_MS: String(flushMs),
    // The bench sends more than a person would; these limits are not what it measures.
    RATE_LIMIT_MESSAGES_PER_MINUTE: '100000',
    RATE_LIMIT_REQUESTS_PER_MINUTE: '1000000',
    // No summary pipeline: every model call of a turn is the agent's own streaming call.
    CONTEXT_BUDGET_TOKENS: '2000000',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  };
}

async function withDatabase<T>(cfg: BenchConfig, fn: (url: string | undefined) => Promise<T>): Promise<T> {
  if (cfg.db === 'pglite') return fn(undefined);
  const { createTestDatabase } = await import('../tests/helpers/services');
  const db = await createTestDatabase();
  try {
    return await fn(db.url);
  } finally {
    await db.drop().catch(() => undefined);
  }
}

async function pantheonStream(cfg: BenchConfig, fake: FakeModel, secret: string): Promise<RealtimeResults['pantheonStream']> {
  return withDatabase(cfg, async (databaseUrl) => {
    const t0 = performance.now();
    const child = await ServerChild.start({ mode: 'pantheon', env: pantheonEnv(fake, secret, 0, databaseUrl) });
    const startMs = performance.now() - t0;
    let pool: ClientPool | undefined;
    try {
      log(`pantheon (DELTA_FLUSH_MS=0) up in ${Math.round(startMs)} ms; adding ${cfg.memSockets} members`);
      const room = await setupPantheonRoom(child.url, secret, cfg.memSockets, cfg.tpSessions);
      log(`memory: ${cfg.memSockets} sockets`);
      const mem = await memoryRun(child, room.tokens, room.roomId);
      pool = mem.pool;
      pool.closeRange(cfg.clients);
      await waitServerSockets(child.sockets, cfg.clients);

      log(`throughput: ${cfg.clients} clients, ${cfg.tpSessions} sessions x ${cfg.tpTurns} turns x ${cfg.tpTokens} tokens`);
      const p = pool;
      fake.plan = { tokens: 20, delayMs: 0 };
      const warm = await p.send(0, { roomId: room.roomId, sessionId: room.sessionIds[0]!, content: 'warm up bench-turn-tp-warm' });
      await p.waitTurnEnd(warm.turnId);
      await p.settle(p.framesBy[0] ?? 0, 30_000);
      fake.plan = { tokens: cfg.tpTokens, delayMs: 0 };
      const throughput = await throughputRun(child, p, async () => {
        await Promise.all(
          room.sessionIds.map(async (sessionId, s) => {
            for (let t = 0; t < cfg.tpTurns; t++) {
              const { turnId } = await p.send(s, { roomId: room.roomId, sessionId, content: `Stream it. bench-turn-tp-${s}-${t}` });
              await p.waitTurnEnd(turnId);
            }
          }),
        );
        // Each socket gets what socket 0 got (socket 0 sent, and saw every turn:end).
        return p.framesBy[0] ?? 0;
      });

      log(`latency (no coalescing): ${cfg.turns} turns x ${cfg.tokens} tokens every ${cfg.tokenDelayMs} ms`);
      const latency = await latencyRun('stream', child, p, fake, cfg, { roomId: room.roomId, sessionId: room.sessionIds[0]! });
      return { memory: mem.result, throughput, latency, startMs };
    } finally {
      pool?.closeAll();
      await child.stop();
    }
  });
}

async function pantheonDefault(cfg: BenchConfig, fake: FakeModel, secret: string): Promise<RealtimeResults['pantheonDefault']> {
  return withDatabase(cfg, async (databaseUrl) => {
    const t0 = performance.now();
    const child = await ServerChild.start({ mode: 'pantheon', env: pantheonEnv(fake, secret, cfg.flushMs, databaseUrl) });
    const startMs = performance.now() - t0;
    const pool = new ClientPool(child.url);
    try {
      log(`pantheon (DELTA_FLUSH_MS=${cfg.flushMs}) up in ${Math.round(startMs)} ms; ${cfg.clients} clients`);
      const room = await setupPantheonRoom(child.url, secret, cfg.clients, 1);
      await pool.connect(room.tokens);
      await pool.joinAll(room.roomId);
      log(`latency and turn overhead: ${cfg.turns} turns x ${cfg.tokens} tokens every ${cfg.tokenDelayMs} ms`);
      const latency = await latencyRun('default', child, pool, fake, cfg, { roomId: room.roomId, sessionId: room.sessionIds[0]! });
      return { latency, flushMs: cfg.flushMs, startMs };
    } finally {
      pool.closeAll();
      await child.stop();
    }
  });
}

// ------------------------------------------------------------------ bare Socket.IO

async function bare(cfg: BenchConfig, fake: FakeModel, tp: ThroughputResult): Promise<RealtimeResults['bare']> {
  const t0 = performance.now();
  const child = await ServerChild.start({ mode: 'bare', modelBaseUrl: fake.baseUrl });
  const startMs = performance.now() - t0;
  let pool: ClientPool | undefined;
  try {
    const roomId = randomUUID();
    log(`bare socket.io up in ${Math.round(startMs)} ms; memory: ${cfg.memSockets} sockets`);
    const mem = await memoryRun(child, new Array<undefined>(cfg.memSockets).fill(undefined), roomId);
    pool = mem.pool;
    pool.closeRange(cfg.clients);
    await waitServerSockets(child.sockets, cfg.clients);

    const count = Math.round(tp.framesPerClient);
    const textLen = Math.round(tp.avgTextChars);
    log(`throughput: broadcast ${count} frames of ${textLen} chars to ${cfg.clients} clients, bursts ${cfg.blastBursts.join('/')}`);
    await child.request('blast', { roomId, count: 50, textLen }); // warm-up
    await pool.settle(50, 30_000);
    const p = pool;
    const runs: ThroughputResult[] = [];
    for (const burst of cfg.blastBursts) {
      const r = await throughputRun(child, p, async () => {
        await child.request('blast', { roomId, count, textLen, burst });
        return count;
      });
      runs.push({ ...r, burst });
      log(`  burst ${burst}: ${Math.round(r.framesPerSec)} frames/s`);
    }
    const best = runs.reduce((a, b) => (b.framesPerSec > a.framesPerSec ? b : a));
    const throughput: ThroughputResult = {
      ...best,
      bursts: runs.map((r) => ({
        burst: r.burst!,
        framesPerSec: r.framesPerSec,
        serverCpuUsPerFrame: r.serverCpuUsPerFrame,
        serverCpuShare: r.serverCpuShare,
        clientCpuShare: r.clientCpuShare,
        otherCores: r.otherCores,
      })),
    };

    log(`latency and turn overhead (relay): ${cfg.turns} turns x ${cfg.tokens} tokens every ${cfg.tokenDelayMs} ms`);
    const latency = await latencyRun('bare', child, p, fake, cfg, { roomId, sessionId: randomUUID() });
    return { memory: mem.result, throughput, latency, startMs };
  } finally {
    pool?.closeAll();
    await child.stop();
  }
}

export async function runRealtime(cfg: BenchConfig): Promise<RealtimeResults> {
  const fake = await startFakeModel();
  const secret = `bench-${randomBytes(24).toString('hex')}`;
  try {
    const pantheonStreamResult = await pantheonStream(cfg, fake, secret);
    const pantheonDefaultResult = await pantheonDefault(cfg, fake, secret);
    const bareResult = await bare(cfg, fake, pantheonStreamResult.throughput);
    return { pantheonStream: pantheonStreamResult, pantheonDefault: pantheonDefaultResult, bare: bareResult };
  } finally {
    await fake.close();
  }
}

