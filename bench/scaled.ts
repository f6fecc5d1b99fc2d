import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { ServerChild } from './child';
import { waitServerSockets } from './clients';
import { tpTurnsFor, type BenchConfig } from './config';
import { STAMP_CHARS, startFakeModel, type FakeModel } from './fake-model';
import type { ClientProcs, RemotePool } from './remote-pool';
import { log, machineBusyMs, pantheonEnv, setupPantheonRoom } from './realtime';
import { sleep, summarize, Samples, type Summary } from './stats';

/**
 * Scaled mode (the `scaled` part): two server children behind one room, clients split between
 * them, every turn sent through node A.
 *
 *  pantheon: two Pantheon nodes on one fresh PostgreSQL database and one Redis (a key prefix of
 *      this run's own), DELTA_FLUSH_MS=0. Every room event is a Lua script on Redis (INCR seq,
 *      XADD to the replay stream, PUBLISH), and every node, the sender included, delivers what it
 *      hears on the room-events channel to its own sockets.
 *  bare: two bare Socket.IO servers joined by @socket.io/redis-adapter. The node that emits
 *      writes to its own sockets at once and PUBLISHes the packet; the other node delivers it.
 *
 * The clients of each node are spread over the client processes, as on one node; the order of
 * the two sides alternates between pairs.
 *
 * The same figures for both: delivered frames/s and server CPU per frame (both children summed),
 * token latency of the clients on A and on B, turn overhead. Redis's own CPU time (INFO cpu) is
 * measured beside them.
 */

export interface PerNode<T> {
  a: T;
  b: T;
}

export interface ScaledCpu {
  /** Server children's user+system CPU, ms. */
  serverCpuMs: PerNode<number> & { total: number };
  /** The Redis server's user+system CPU (INFO cpu), ms: every client of that Redis counts. */
  redisCpuMs: number;
  /** The client processes. */
  clientCpuMs: number;
  /** This process (the fake model, the IPC). */
  benchCpuMs: number;
  wallMs: number;
  /** Cores busy with anything else (PostgreSQL included; Redis excluded when it is local). */
  otherCores: number;
}

export interface ScaledThroughput {
  clients: PerNode<number>;
  /** sessions x turns x tokens: the frames each client should get (the bare broadcast sends this many). */
  expectedFramesPerClient: number;
  /** Frames received by the sender's socket (node A, socket 0); every socket should get as many. */
  framesPerClient: number;
  totalFrames: number;
  framesByNode: PerNode<number>;
  windowMs: number;
  framesPerSec: number;
  avgTextChars: number;
  cpu: ScaledCpu;
  serverCpuUsPerFrame: number;
  /** Each node's CPU time over the frames delivered to its own clients. */
  serverCpuUsPerFrameByNode: PerNode<number>;
  redisCpuUsPerFrame: number;
  /** Redis CPU per room event published (a frame delivered to every client is one event). */
  redisCpuUsPerEvent: number;
  complete: boolean;
  burst?: number;
  /** Bare only: each burst size tried; the best rate is reported. */
  bursts?: {
    burst: number;
    framesPerSec: number;
    serverCpuUsPerFrame: number;
    serverCpuUsPerFrameByNode: PerNode<number>;
    redisCpuUsPerFrame: number;
    redisCpuUsPerEvent: number;
    otherCores: number;
    complete: boolean;
  }[];
}

export interface ScaledLatency {
  label: string;
  clients: PerNode<number>;
  turns: number;
  tokensPerTurn: number;
  tokenDelayMs: number;
  tokenLatencyMs: PerNode<Summary> & { all: Summary };
  expectedTokens: PerNode<number>;
  receivedTokens: PerNode<number>;
  framesPerClient: number;
  /** message:send ack -> turn:end (seen by the sender on A), minus the model's streaming time */
  turnOverheadMs: Summary;
  sendToEndOverheadMs: Summary;
  ackMs: Summary;
  modelMs: Summary;
  serverCpuMsPerTurn: PerNode<number> & { total: number };
  redisCpuMsPerTurn: number;
  otherCores: number;
}

export interface ScaledResults {
  /** Which side ran first in this pair. */
  first: 'pantheon' | 'bare';
  redisKeyPrefix: string;
  /** Redis's CPU use while the bench sent it nothing, over 1 s before the runs (its own timers, other users of it). */
  redisIdleCpuMsPerSec: number;
  pantheon: {
    throughput: ScaledThroughput;
    latency: ScaledLatency;
    flushMs: 0;
    startMs: PerNode<number>;
    /** Turns per runner (node) in the database; one runner means node A ran every turn. */
    turnsByRunner: number[];
  };
  bare: { throughput: ScaledThroughput; latency: ScaledLatency; startMs: PerNode<number> };
  /** Keys under this run's prefixes deleted from Redis at the end. */
  redisKeysDeleted: number;
}

type Pools = [RemotePool, RemotePool];

const redisUrl = () => process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const isLoopback = (url: string) => ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname);

async function redisCpuMs(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? Number.NaN);
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1000;
}

/** CPU time of both server children, of Redis, of the client processes and of this process around `fn`. */
async function measure<T>(children: ServerChild[], procs: ClientProcs, redis: Redis, fn: () => Promise<T>): Promise<{ value: T; cpu: ScaledCpu }> {
  const [c0, k0] = await Promise.all([Promise.all(children.map((c) => c.cpu())), procs.cpuMs()]);
  const r0 = await redisCpuMs(redis);
  const p0 = process.cpuUsage();
  const m0 = machineBusyMs();
  const w0 = performance.now();
  const value = await fn();
  const wallMs = performance.now() - w0;
  const m1 = machineBusyMs();
  const p1 = process.cpuUsage(p0);
  const r1 = await redisCpuMs(redis);
  const [c1, k1] = await Promise.all([Promise.all(children.map((c) => c.cpu())), procs.cpuMs()]);
  const per = children.map((_, i) => (c1[i]!.cpuUs - c0[i]!.cpuUs) / 1000);
  const total = per.reduce((s, v) => s + v, 0);
  const clientCpuMs = k1 - k0;
  const benchCpuMs = (p1.user + p1.system) / 1000;
  const redisMs = r1 - r0;
  const localRedis = isLoopback(redisUrl()) ? redisMs : 0;
  return {
    value,
    cpu: {
      serverCpuMs: { a: per[0]!, b: per[1]!, total },
      redisCpuMs: redisMs,
      clientCpuMs,
      benchCpuMs,
      wallMs,
      otherCores: Math.max(0, m1 - m0 - total - clientCpuMs - benchCpuMs - localRedis) / wallMs,
    },
  };
}

async function settleAll(pools: Pools, perSocket: number, timeoutMs = 120_000): Promise<boolean> {
  const done = await Promise.all(pools.map((p) => p.settle(perSocket, timeoutMs)));
  return done.every(Boolean);
}

async function throughputRun(children: ServerChild[], procs: ClientProcs, pools: Pools, redis: Redis, expectedFramesPerClient: number, drive: () => Promise<void>): Promise<ScaledThroughput> {
  for (const p of pools) {
    await p.reset();
    await p.recordLatency(false);
  }
  const { value: complete, cpu } = await measure(children, procs, redis, async () => {
    await drive();
    return settleAll(pools, expectedFramesPerClient);
  });
  const [a, b] = await Promise.all(pools.map((p) => p.stats()));
  const windowMs = Math.max(a!.lastMs, b!.lastMs) - Math.min(a!.firstMs, b!.firstMs);
  const totalFrames = a!.frames + b!.frames;
  const framesPerClient = totalFrames / Math.max(1, a!.open + b!.open);
  return {
    clients: { a: a!.open, b: b!.open },
    expectedFramesPerClient,
    framesPerClient,
    totalFrames,
    framesByNode: { a: a!.frames, b: b!.frames },
    windowMs,
    framesPerSec: (totalFrames / windowMs) * 1000,
    avgTextChars: (a!.textChars + b!.textChars) / Math.max(1, totalFrames),
    cpu,
    serverCpuUsPerFrame: (cpu.serverCpuMs.total * 1000) / Math.max(1, totalFrames),
    serverCpuUsPerFrameByNode: { a: (cpu.serverCpuMs.a * 1000) / Math.max(1, a!.frames), b: (cpu.serverCpuMs.b * 1000) / Math.max(1, b!.frames) },
    redisCpuUsPerFrame: (cpu.redisCpuMs * 1000) / Math.max(1, totalFrames),
    redisCpuUsPerEvent: (cpu.redisCpuMs * 1000) / Math.max(1, framesPerClient),
    complete,
  };
}

/** Sequential turns from socket 0 of node A's pool; one warm-up turn first (not counted). */
async function latencyRun(
  label: string,
  children: ServerChild[],
  procs: ClientProcs,
  pools: Pools,
  redis: Redis,
  fake: FakeModel,
  cfg: BenchConfig,
  target: { roomId: string; sessionId: string },
): Promise<ScaledLatency> {
  const [a, b] = pools;
  const turn = async (marker: string) => {
    const { turnId, sentMs, ackMs } = await a.send(0, { ...target, content: `Please answer. ${marker}` });
    const endMs = await a.waitTurnEnd(0, turnId);
    return { sentMs, ackMs, endMs, modelMs: fake.modelMsFor(marker) };
  };
  fake.plan = { tokens: 5, delayMs: cfg.tokenDelayMs };
  await turn(`bench-turn-${label}-warm`);
  await settleAll(pools, (await a.stats()).framesOf0, 30_000);
  await sleep(200);

  fake.plan = { tokens: cfg.tokens, delayMs: cfg.tokenDelayMs };
  for (const p of pools) {
    await p.reset();
    await p.recordLatency(true);
  }
  const overhead = new Samples();
  const sendToEnd = new Samples();
  const ack = new Samples();
  const model = new Samples();
  const { cpu } = await measure(children, procs, redis, async () => {
    for (let t = 0; t < cfg.turns; t++) {
      const r = await turn(`bench-turn-${label}-${t}-${randomUUID().slice(0, 8)}`);
      if (r.modelMs === undefined) throw new Error(`${label}: the model was not called for turn ${t}`);
      overhead.push(r.endMs - r.ackMs - r.modelMs);
      sendToEnd.push(r.endMs - r.sentMs - r.modelMs);
      ack.push(r.ackMs - r.sentMs);
      model.push(r.modelMs);
    }
    await settleAll(pools, (await a.stats()).framesOf0, 30_000);
  });
  for (const p of pools) await p.recordLatency(false);
  const [sa, sb] = await Promise.all([a.stats(), b.stats()]);
  const la = await a.latencies();
  const lb = await b.latencies();
  const all = new Float64Array(la.length + lb.length);
  all.set(la);
  all.set(lb, la.length);
  const perTurn = (ms: number) => ms / cfg.turns;
  return {
    label,
    clients: { a: sa.open, b: sb.open },
    turns: cfg.turns,
    tokensPerTurn: cfg.tokens,
    tokenDelayMs: cfg.tokenDelayMs,
    tokenLatencyMs: { a: summarize(la), b: summarize(lb), all: summarize(all) },
    expectedTokens: { a: cfg.turns * cfg.tokens * sa.open, b: cfg.turns * cfg.tokens * sb.open },
    receivedTokens: { a: la.length, b: lb.length },
    framesPerClient: sa.framesOf0,
    turnOverheadMs: summarize(overhead.values()),
    sendToEndOverheadMs: summarize(sendToEnd.values()),
    ackMs: summarize(ack.values()),
    modelMs: summarize(model.values()),
    serverCpuMsPerTurn: { a: perTurn(cpu.serverCpuMs.a), b: perTurn(cpu.serverCpuMs.b), total: perTurn(cpu.serverCpuMs.total) },
    redisCpuMsPerTurn: perTurn(cpu.redisCpuMs),
    otherCores: cpu.otherCores,
  };
}

/** Starts node A, then node B (A has run the migrations by then, so B does not race it). */
async function startPair(init: (node: 'a' | 'b') => Parameters<typeof ServerChild.start>[0], children: ServerChild[]): Promise<PerNode<number>> {
  const startMs = { a: 0, b: 0 };
  for (const node of ['a', 'b'] as const) {
    const t0 = performance.now();
    children.push(await ServerChild.start(init(node)));
    startMs[node] = performance.now() - t0;
  }
  return startMs;
}

/** The first half of the clients on node A, the second on node B; each node's clients spread over the client processes. */
async function splitPools(children: ServerChild[], procs: ClientProcs, tokens: (string | undefined)[], roomId: string): Promise<Pools> {
  const half = Math.ceil(tokens.length / 2);
  const pools: Pools = [await procs.pool(children[0]!.url), await procs.pool(children[1]!.url)];
  await pools[0].connect(tokens.slice(0, half));
  await pools[1].connect(tokens.slice(half));
  await pools[0].joinAll(roomId);
  await pools[1].joinAll(roomId);
  return pools;
}

async function turnsByRunner(databaseUrl: string): Promise<number[]> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const r = await c.query<{ n: number }>(`select count(*)::int as n from "turns" group by "runner_id" order by n desc`);
    return r.rows.map((row) => row.n);
  } finally {
    await c.end();
  }
}

async function deleteKeys(redis: Redis, prefix: string): Promise<number> {
  let deleted = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    if (keys.length) deleted += await redis.del(...keys);
  } while (cursor !== '0');
  return deleted;
}

async function pantheonScaled(cfg: BenchConfig, procs: ClientProcs, fake: FakeModel, redis: Redis, keyPrefix: string): Promise<ScaledResults['pantheon']> {
  const { createTestDatabase } = await import('../tests/helpers/services');
  const db = await createTestDatabase();
  const secret = `bench-${randomBytes(24).toString('hex')}`;
  const children: ServerChild[] = [];
  let pools: Pools | undefined;
  try {
    const env = { ...pantheonEnv(fake, secret, 0, db.url), REDIS_URL: redisUrl(), REDIS_KEY_PREFIX: keyPrefix };
    const startMs = await startPair(() => ({ mode: 'pantheon', env }), children);
    log(`scaled pantheon: 2 nodes (DELTA_FLUSH_MS=0) up in ${Math.round(startMs.a)} + ${Math.round(startMs.b)} ms, database ${db.name}; ${cfg.clients} clients split between them`);
    const room = await setupPantheonRoom(children[0]!.url, secret, cfg.clients, cfg.tpSessions);
    pools = await splitPools(children, procs, room.tokens, room.roomId);
    const p = pools;
    const [a] = p;

    const turns = tpTurnsFor(cfg, cfg.clients);
    const frames = cfg.tpSessions * turns * cfg.tpTokens;
    log(`scaled throughput: ${cfg.tpSessions} sessions x ${turns} turns x ${cfg.tpTokens} tokens, sent through node A`);
    fake.plan = { tokens: 20, delayMs: 0 };
    const warm = await a.send(0, { roomId: room.roomId, sessionId: room.sessionIds[0]!, content: 'warm up bench-turn-stp-warm' });
    await a.waitTurnEnd(0, warm.turnId);
    await settleAll(p, (await a.stats()).framesOf0, 30_000);
    fake.plan = { tokens: cfg.tpTokens, delayMs: 0 };
    const throughput = await throughputRun(children, procs, p, redis, frames, async () => {
      await Promise.all(
        room.sessionIds.map(async (sessionId, s) => {
          for (let t = 0; t < turns; t++) {
            const { turnId } = await a.send(s, { roomId: room.roomId, sessionId, content: `Stream it. bench-turn-stp-${s}-${t}-${randomUUID().slice(0, 8)}` });
            // Socket 0 (on A) sees every session's turns; by its turn:end it has all of this turn's frames.
            await a.waitTurnEnd(0, turnId);
          }
        }),
      );
    });
    log(`  ${Math.round(throughput.framesPerSec)} frames/s`);

    log(`scaled latency and turn overhead: ${cfg.turns} turns x ${cfg.tokens} tokens every ${cfg.tokenDelayMs} ms`);
    const latency = await latencyRun('scaled', children, procs, p, redis, fake, cfg, { roomId: room.roomId, sessionId: room.sessionIds[0]! });
    return { throughput, latency, flushMs: 0, startMs, turnsByRunner: await turnsByRunner(db.url) };
  } finally {
    for (const p of pools ?? []) await p.dispose();
    await Promise.all(children.map((c) => c.stop()));
    await db.drop().catch((err: unknown) => log(`could not drop database ${db.name}: ${String(err)}`));
  }
}

async function bareScaled(cfg: BenchConfig, procs: ClientProcs, fake: FakeModel, redis: Redis, keyPrefix: string): Promise<ScaledResults['bare']> {
  const children: ServerChild[] = [];
  let pools: Pools | undefined;
  try {
    const startMs = await startPair(() => ({ mode: 'bare', modelBaseUrl: fake.baseUrl, redis: { url: redisUrl(), keyPrefix } }), children);
    log(`scaled bare: 2 socket.io servers + redis-adapter up in ${Math.round(startMs.a)} + ${Math.round(startMs.b)} ms; ${cfg.clients} clients split between them`);
    const roomId = randomUUID();
    pools = await splitPools(children, procs, new Array<undefined>(cfg.clients).fill(undefined), roomId);
    const opened = await Promise.all(pools.map((x) => x.stats()));
    await Promise.all(children.map((c, i) => waitServerSockets(c.sockets, opened[i]!.open)));
    const p = pools;
    const blaster = children[0]!;

    const count = cfg.tpSessions * tpTurnsFor(cfg, cfg.clients) * cfg.tpTokens;
    const textLen = STAMP_CHARS;
    log(`scaled bare throughput: node A broadcasts ${count} frames of ${textLen} chars, bursts ${cfg.blastBursts.join('/')}`);
    // Warm-up, and proof that node B hears node A. The adapter subscribes to Redis in the
    // background after a server starts, so a broadcast right after the start may miss node B: try again.
    for (let attempt = 1; ; attempt++) {
      for (const x of p) await x.reset();
      await blaster.request('blast', { roomId, count: 50, textLen });
      if (await settleAll(p, 50, 10_000)) break;
      if (attempt === 5) throw new Error('scaled bare: the warm-up broadcast did not reach every client on both nodes (5 attempts)');
      log(`scaled bare: the warm-up broadcast did not reach every client on both nodes (attempt ${attempt}); again`);
    }
    const runs: ScaledThroughput[] = [];
    for (const burst of cfg.blastBursts) {
      const r = await throughputRun(children, procs, p, redis, count, async () => {
        await blaster.request('blast', { roomId, count, textLen, burst }, 600_000);
      });
      runs.push({ ...r, burst });
      log(`  burst ${burst}: ${Math.round(r.framesPerSec)} frames/s`);
    }
    const best = runs.reduce((x, y) => (y.framesPerSec > x.framesPerSec ? y : x));
    const throughput: ScaledThroughput = {
      ...best,
      bursts: runs.map((r) => ({
        burst: r.burst!,
        framesPerSec: r.framesPerSec,
        serverCpuUsPerFrame: r.serverCpuUsPerFrame,
        serverCpuUsPerFrameByNode: r.serverCpuUsPerFrameByNode,
        redisCpuUsPerFrame: r.redisCpuUsPerFrame,
        redisCpuUsPerEvent: r.redisCpuUsPerEvent,
        otherCores: r.cpu.otherCores,
        complete: r.complete,
      })),
    };

    log(`scaled bare latency and turn overhead (relay on node A): ${cfg.turns} turns x ${cfg.tokens} tokens every ${cfg.tokenDelayMs} ms`);
    const latency = await latencyRun('sbare', children, procs, p, redis, fake, cfg, { roomId, sessionId: randomUUID() });
    return { throughput, latency, startMs };
  } finally {
    for (const p of pools ?? []) await p.dispose();
    await Promise.all(children.map((c) => c.stop()));
  }
}

/**
 * Whether PostgreSQL (the admin URL) and Redis answer within a few seconds: a default run skips
 * the scaled part when they do not; BENCH_ONLY=scaled requires them.
 */
export async function scaledServicesProblem(): Promise<string | undefined> {
  const { ADMIN_DATABASE_URL } = await import('../tests/helpers/services');
  const redis = new Redis(redisUrl(), { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  let lastError: Error | undefined;
  redis.on('error', (err: Error) => (lastError = err)); // reported below, with connect()'s failure
  const problems: string[] = [];
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    problems.push(`Redis at ${redisUrl()}: ${(lastError ?? (err as Error)).message}`);
  } finally {
    redis.disconnect();
  }
  const c = new pg.Client({ connectionString: ADMIN_DATABASE_URL, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.query('select 1');
  } catch (err) {
    problems.push(`PostgreSQL: ${(err as Error).message}`);
  } finally {
    await c.end().catch(() => undefined);
  }
  return problems.length ? problems.join('; ') : undefined;
}

/** One pair of scaled mode: Pantheon first in odd pairs (`pair` counts from 1), the baseline first in even ones. */
export async function runScaled(cfg: BenchConfig, procs: ClientProcs, pair: number): Promise<ScaledResults> {
  if (cfg.clients < 2) throw new Error('scaled mode needs BENCH_CLIENTS >= 2 (clients are split between two nodes)');
  const redis = new Redis(redisUrl(), { maxRetriesPerRequest: 2, connectionName: 'pantheon-bench:control' });
  redis.on('error', (err: Error) => log(`redis (bench control connection): ${err.message}`));
  const keyPrefix = `pantheon-bench:${randomBytes(5).toString('hex')}:`;
  const barePrefix = `${keyPrefix}bare:`;
  const fake = await startFakeModel();
  let result: ScaledResults | undefined;
  try {
    await redis.ping();
    const r0 = await redisCpuMs(redis);
    const w0 = performance.now();
    await sleep(1000);
    const redisIdleCpuMsPerSec = ((await redisCpuMs(redis)) - r0) / ((performance.now() - w0) / 1000);
    const first = pair % 2 === 1 ? 'pantheon' : 'bare';
    let pantheon: ScaledResults['pantheon'];
    let bare: ScaledResults['bare'];
    if (first === 'pantheon') {
      pantheon = await pantheonScaled(cfg, procs, fake, redis, keyPrefix);
      bare = await bareScaled(cfg, procs, fake, redis, barePrefix);
    } else {
      bare = await bareScaled(cfg, procs, fake, redis, barePrefix);
      pantheon = await pantheonScaled(cfg, procs, fake, redis, keyPrefix);
    }
    result = { first, redisKeyPrefix: keyPrefix, redisIdleCpuMsPerSec, pantheon, bare, redisKeysDeleted: 0 };
  } finally {
    await fake.close();
    // Both runs' keys (the bare adapter's prefix is under this one): the replay streams, seqs, rate limits, BullMQ.
    const deleted = await deleteKeys(redis, keyPrefix).catch((err: unknown) => {
      log(`could not delete the Redis keys under ${keyPrefix}: ${String(err)}`);
      return 0;
    });
    log(`scaled: deleted ${deleted} Redis keys under ${keyPrefix}`);
    redis.disconnect();
    if (result) result.redisKeysDeleted = deleted;
  }
  return result;
}
