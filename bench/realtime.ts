import { randomBytes, randomUUID } from 'node:crypto';
import os from 'node:os';
import { signToken } from '../src/auth/jwt';
import { ServerChild } from './child';
import { waitServerSockets } from './clients';
import { tpTurnsFor, type BenchConfig } from './config';
import { STAMP_CHARS, startFakeModel, type FakeModel } from './fake-model';
import type { ClientProcs, RemotePool } from './remote-pool';
import type { MemSample } from './server-child';
import { mapLimit, Samples, sleep, summarize, type Summary } from './stats';

/**
 * The real-time figures. Each server under test runs in its own child process; the clients run
 * in the client processes (two by default, each socket i in process i mod 2) and the fake model
 * in this process. The client processes report every time on this process's clock.
 *
 *  pantheon-stream (DELTA_FLUSH_MS=0): joins into small rooms, then a large room filled (joins,
 *      memory per socket), then fan-out at the large and the small size (frames/s, server CPU per
 *      frame), then token latency without coalescing;
 *  pantheon-default (DELTA_FLUSH_MS=config.flushMs, 40 by default): token latency and turn overhead
 *      as deployed;
 *  bare: the same joins, memory, fan-out (a broadcast of the same frames) and a relay turn (token
 *      latency and turn overhead of the least a server can do).
 *
 * Within a pair the order alternates (Pantheon first in odd pairs, the baseline first in even ones).
 */

export interface JoinResult {
  /** Sockets per room, rooms filled, joins in all. */
  roomSize: number;
  rooms: number;
  joins: number;
  /** Wall time of the joins (first emit to last ack), `concurrency` in flight over all client processes. */
  wallMs: number;
  concurrency: number;
  joinsPerSec: number;
  /** Server CPU from the first join to 250 ms after the last ack (so the presence fan-out is in). */
  serverCpuMs: number;
  serverCpuUsPerJoin: number;
  ackMs: { all: Summary; firstFifth: Summary; lastFifth: Summary };
  otherCores: number;
}

export interface MemoryResult {
  sockets: number;
  warmupSockets: number;
  /** Sockets connected (handshake + auth) per second, 50 in flight. */
  connectsPerSec: number;
  /** Filling the large room (its joins, as a join figure). */
  join: JoinResult;
  before: MemSample;
  after: MemSample;
  heapPerConnBytes: number;
  rssPerConnBytes: number;
  /** heapUsed + external + arrayBuffers */
  totalPerConnBytes: number;
}

export interface ThroughputResult {
  clients: number;
  /** sessions x turns x tokens: the frames each client should get (the bare broadcast sends this many). */
  expectedFramesPerClient: number;
  framesPerClient: number;
  totalFrames: number;
  windowMs: number;
  framesPerSec: number;
  avgTextChars: number;
  serverCpuMs: number;
  serverCpuUsPerFrame: number;
  /** Cores used by the server / by the client processes / by this process (fake model) during the run. */
  serverCpuShare: number;
  clientCpuShare: number;
  benchCpuShare: number;
  otherCores: number;
  complete: boolean;
  /** Bare only: the rate at each burst size (frames per turn of the event loop); the best one is reported. */
  bursts?: { burst: number; framesPerSec: number; serverCpuUsPerFrame: number; serverCpuShare: number; clientCpuShare: number; otherCores: number; complete: boolean }[];
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
  /** message:send ack -> turn:end at the sender's socket, minus the model's streaming time */
  turnOverheadMs: Summary;
  /** message:send emitted -> turn:end, minus the model's streaming time */
  sendToEndOverheadMs: Summary;
  ackMs: Summary;
  modelMs: Summary;
  serverCpuMsPerTurn: number;
  otherCores: number;
}

export interface SingleNodeResult {
  joinSmall: JoinResult;
  memory: MemoryResult;
  /** At cfg.fanout[0] and cfg.fanout[1] clients. */
  fanout: { small: ThroughputResult; large: ThroughputResult };
  latency: LatencyResult;
  startMs: number;
}

export interface RealtimeResults {
  /** Which side ran first in this pair. */
  first: 'pantheon' | 'bare';
  pantheonStream: SingleNodeResult;
  pantheonDefault: { latency: LatencyResult; flushMs: number; startMs: number };
  bare: SingleNodeResult;
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
  /** The client processes. */
  clientCpuMs: number;
  /** This process (the fake model, the IPC). */
  benchCpuMs: number;
  wallMs: number;
  /** Cores busy with anything else (other processes, kernel) during the run: noise, ideally ~0. */
  otherCores: number;
}

async function cpuDelta<T>(child: ServerChild, procs: ClientProcs, fn: () => Promise<T>): Promise<{ value: T } & CpuUse> {
  const [c0, k0] = await Promise.all([child.cpu(), procs.cpuMs()]);
  const p0 = process.cpuUsage();
  const m0 = machineBusyMs();
  const w0 = performance.now();
  const value = await fn();
  const wallMs = performance.now() - w0;
  const m1 = machineBusyMs();
  const p1 = process.cpuUsage(p0);
  const [c1, k1] = await Promise.all([child.cpu(), procs.cpuMs()]);
  const serverCpuMs = (c1.cpuUs - c0.cpuUs) / 1000;
  const clientCpuMs = k1 - k0;
  const benchCpuMs = (p1.user + p1.system) / 1000;
  return { value, serverCpuMs, clientCpuMs, benchCpuMs, wallMs, otherCores: Math.max(0, m1 - m0 - serverCpuMs - clientCpuMs - benchCpuMs) / wallMs };
}

const JOIN_CONCURRENCY = 50;

/** Joins every socket of `pool` (socket i into roomIds[i]), timing the joins and the server's CPU. */
async function joinRun(child: ServerChild, procs: ClientProcs, pool: RemotePool, roomIds: string | string[], roomSize: number, rooms: number): Promise<JoinResult> {
  let wallMs = 0;
  const { value: acks, serverCpuMs, wallMs: cpuWallMs, otherCores } = await cpuDelta(child, procs, async () => {
    const t0 = performance.now();
    const acks = await pool.joinAll(roomIds, JOIN_CONCURRENCY);
    wallMs = performance.now() - t0;
    // What a join sets off after its ack (the presence fan-out) belongs to it too.
    await sleep(250);
    return acks;
  });
  void cpuWallMs;
  const joins = acks.length;
  const fifth = Math.max(1, Math.floor(joins / 5));
  return {
    roomSize,
    rooms,
    joins,
    wallMs,
    concurrency: JOIN_CONCURRENCY,
    joinsPerSec: (joins / wallMs) * 1000,
    serverCpuMs,
    serverCpuUsPerJoin: (serverCpuMs * 1000) / Math.max(1, joins),
    ackMs: { all: summarize(acks), firstFifth: summarize(acks.slice(0, fifth)), lastFifth: summarize(acks.slice(-fifth)) },
    otherCores,
  };
}

/** What a server under test offers the single-node runs: where its rooms are and how to stream. */
interface SingleNodeSide {
  label: string;
  child: ServerChild;
  /** Small rooms: socket i's token and room. */
  small: { tokens: (string | undefined)[]; roomIds: string[] };
  /** The large room: one token per socket (memSockets of them). */
  big: { roomId: string; tokens: (string | undefined)[] };
  /** Runs the throughput load (frames per client known beforehand); resolves once it is sent (Pantheon: once socket 0 has it all). */
  drive(pool: RemotePool, framesPerClient: number, turnsPerSession: number, burst: number): Promise<void>;
  /** Bare: the burst sizes to try (the best rate is the baseline); Pantheon: none. */
  bursts?: number[];
  /** Before the fan-out runs at one size: a short load, not counted. */
  warmUp(pool: RemotePool): Promise<void>;
  latencyTarget: { roomId: string; sessionId: string };
}

async function throughputRun(child: ServerChild, procs: ClientProcs, pool: RemotePool, expectedFramesPerClient: number, drive: () => Promise<void>): Promise<ThroughputResult> {
  await pool.reset();
  await pool.recordLatency(false);
  const { value: complete, serverCpuMs, clientCpuMs, benchCpuMs, wallMs, otherCores } = await cpuDelta(child, procs, async () => {
    await drive();
    return pool.settle(expectedFramesPerClient);
  });
  const st = await pool.stats();
  const windowMs = st.lastMs - st.firstMs;
  return {
    clients: st.open,
    expectedFramesPerClient,
    framesPerClient: st.frames / st.open,
    totalFrames: st.frames,
    windowMs,
    framesPerSec: (st.frames / windowMs) * 1000,
    avgTextChars: st.textChars / Math.max(1, st.frames),
    serverCpuMs,
    serverCpuUsPerFrame: (serverCpuMs * 1000) / Math.max(1, st.frames),
    serverCpuShare: serverCpuMs / wallMs,
    clientCpuShare: clientCpuMs / wallMs,
    benchCpuShare: benchCpuMs / wallMs,
    otherCores,
    complete,
  };
}

/** Sequential turns from socket 0; one warm-up turn first (not counted). */
async function latencyRun(label: string, child: ServerChild, procs: ClientProcs, pool: RemotePool, fake: FakeModel, cfg: BenchConfig, target: { roomId: string; sessionId: string }): Promise<LatencyResult> {
  // The turn marker (MARKER_RE) takes letters, digits and dashes only.
  const tag = label.replace(/[^A-Za-z0-9]+/g, '-');
  const turn = async (marker: string) => {
    const { turnId, sentMs, ackMs } = await pool.send(0, { ...target, content: `Please answer. ${marker}` });
    const endMs = await pool.waitTurnEnd(0, turnId);
    return { sentMs, ackMs, endMs, modelMs: fake.modelMsFor(marker) };
  };
  fake.plan = { tokens: 5, delayMs: cfg.tokenDelayMs };
  await turn(`bench-turn-${tag}-warm`);
  await pool.settle((await pool.stats()).framesOf0, 30_000);
  await sleep(200);

  fake.plan = { tokens: cfg.tokens, delayMs: cfg.tokenDelayMs };
  await pool.reset();
  await pool.recordLatency(true);
  const overhead = new Samples();
  const sendToEnd = new Samples();
  const ack = new Samples();
  const model = new Samples();
  const { serverCpuMs, otherCores } = await cpuDelta(child, procs, async () => {
    for (let t = 0; t < cfg.turns; t++) {
      const r = await turn(`bench-turn-${tag}-${t}-${randomUUID().slice(0, 8)}`);
      if (r.modelMs === undefined) throw new Error(`${label}: the model was not called for turn ${t}`);
      overhead.push(r.endMs - r.ackMs - r.modelMs);
      sendToEnd.push(r.endMs - r.sentMs - r.modelMs);
      ack.push(r.ackMs - r.sentMs);
      model.push(r.modelMs);
    }
    // Every socket gets its frames before the latency samples are read.
    await pool.settle((await pool.stats()).framesOf0, 30_000);
  });
  await pool.recordLatency(false);
  const st = await pool.stats();
  const latencies = await pool.latencies();
  return {
    label,
    clients: st.open,
    turns: cfg.turns,
    tokensPerTurn: cfg.tokens,
    tokenDelayMs: cfg.tokenDelayMs,
    tokenLatencyMs: summarize(latencies),
    expectedTokens: cfg.turns * cfg.tokens * st.open,
    receivedTokens: latencies.length,
    framesPerClient: st.frames / st.open,
    turnOverheadMs: summarize(overhead.values()),
    sendToEndOverheadMs: summarize(sendToEnd.values()),
    ackMs: summarize(ack.values()),
    modelMs: summarize(model.values()),
    serverCpuMsPerTurn: serverCpuMs / cfg.turns,
    otherCores,
  };
}

/**
 * The single-node runs on one server: joins into the small rooms, the large room filled (joins
 * and memory per socket, after a warm-up wave), fan-out at the large then the small size, and at
 * `cfg.clients` clients the token latency (when `latency` is set).
 */
async function singleNodeRuns(cfg: BenchConfig, procs: ClientProcs, fake: FakeModel, side: SingleNodeSide, startMs: number): Promise<SingleNodeResult> {
  const { child } = side;
  const pools: RemotePool[] = [];
  const newPool = async () => {
    const p = await procs.pool(child.url);
    pools.push(p);
    return p;
  };
  try {
    const warmupSockets = Math.min(side.big.tokens.length, 100);
    log(`${side.label}: warm-up wave of ${warmupSockets} sockets`);
    const warm = await newPool();
    await warm.connect(side.big.tokens.slice(0, warmupSockets));
    await warm.joinAll(side.big.roomId);
    await warm.dispose();
    await waitServerSockets(child.sockets, 0);

    log(`${side.label}: joins into ${cfg.smallRooms} rooms of ${cfg.smallRoom}`);
    const small = await newPool();
    await small.connect(side.small.tokens);
    const joinSmall = await joinRun(child, procs, small, side.small.roomIds, cfg.smallRoom, cfg.smallRooms);
    await small.dispose();
    await waitServerSockets(child.sockets, 0);
    await sleep(300);

    log(`${side.label}: filling a room of ${side.big.tokens.length}`);
    const before = await child.mem();
    const pool = await newPool();
    const c0 = performance.now();
    await pool.connect(side.big.tokens);
    const connectMs = performance.now() - c0;
    const join = await joinRun(child, procs, pool, side.big.roomId, side.big.tokens.length, 1);
    await sleep(250);
    const after = await child.mem();
    const n = side.big.tokens.length;
    const memory: MemoryResult = { sockets: n, warmupSockets, connectsPerSec: (n / connectMs) * 1000, join, before, after, ...perConn(before, after, n) };

    // The larger sizes first: each step closes sockets down to the next size.
    const fanout: Partial<SingleNodeResult['fanout']> = {};
    let latency: LatencyResult | undefined;
    const sizes = [...new Set([cfg.fanout[0], cfg.fanout[1], cfg.clients])].sort((a, b) => b - a);
    for (const size of sizes) {
      await pool.closeRange(size);
      await waitServerSockets(child.sockets, size);
      for (const which of ['small', 'large'] as const) {
        if (cfg.fanout[which === 'small' ? 0 : 1] !== size) continue;
        const turns = tpTurnsFor(cfg, size);
        const frames = cfg.tpSessions * turns * cfg.tpTokens;
        log(`${side.label}: fan-out to ${size} clients, ${cfg.tpSessions} sessions x ${turns} turns x ${cfg.tpTokens} tokens`);
        await side.warmUp(pool);
        const runs: ThroughputResult[] = [];
        for (const burst of side.bursts ?? [0]) {
          const r = await throughputRun(child, procs, pool, frames, () => side.drive(pool, frames, turns, burst));
          runs.push(side.bursts ? { ...r, burst } : r);
          log(`  ${side.bursts ? `burst ${burst}: ` : ''}${Math.round(r.framesPerSec)} frames/s, ${r.serverCpuUsPerFrame.toFixed(2)} µs server CPU per frame`);
        }
        const best = runs.reduce((a, b) => (b.framesPerSec > a.framesPerSec ? b : a));
        fanout[which] = side.bursts
          ? {
              ...best,
              bursts: runs.map((r) => ({
                burst: r.burst!,
                framesPerSec: r.framesPerSec,
                serverCpuUsPerFrame: r.serverCpuUsPerFrame,
                serverCpuShare: r.serverCpuShare,
                clientCpuShare: r.clientCpuShare,
                otherCores: r.otherCores,
                complete: r.complete,
              })),
            }
          : best;
      }
      if (size === cfg.clients) {
        log(`${side.label}: latency, ${cfg.turns} turns x ${cfg.tokens} tokens every ${cfg.tokenDelayMs} ms, ${size} clients`);
        latency = await latencyRun(side.label, child, procs, pool, fake, cfg, side.latencyTarget);
      }
    }
    return { joinSmall, memory, fanout: fanout as SingleNodeResult['fanout'], latency: latency!, startMs };
  } finally {
    for (const p of pools) await p.dispose();
  }
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


/** Rooms with no agent (the small rooms of the join figures): `rooms` rooms, users 0..size-1 in each. */
async function setupSmallRooms(url: string, tokens: string[], rooms: number, size: number): Promise<string[]> {
  const owner = tokens[0]!;
  const ids: string[] = [];
  for (let r = 0; r < rooms; r++) {
    const room = await api(url, owner, 'POST', '/rooms', { name: `Bench small ${r}`, mode: 'roundtable' });
    await mapLimit(
      Array.from({ length: size - 1 }, (_, i) => i + 1),
      8,
      (i) => api(url, owner, 'POST', `/rooms/${room.id}/members`, { sub: `bench-u${i}`, displayName: `User ${i}` }),
    );
    ids.push(room.id);
  }
  return ids;
}

/** Socket i of the small rooms: room floor(i / size), user i mod size. */
function smallRoomSockets<T>(roomIds: string[], size: number, tokenOf: (user: number) => T): { tokens: T[]; roomIds: string[] } {
  const tokens: T[] = [];
  const rooms: string[] = [];
  for (const roomId of roomIds) {
    for (let u = 0; u < size; u++) {
      tokens.push(tokenOf(u));
      rooms.push(roomId);
    }
  }
  return { tokens, roomIds: rooms };
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
    // Replies as long as the bare broadcast's: each fake chunk counts several model tokens, and
    // the server holds an answer to MAX_OUTPUT_TOKENS even when the provider does not.
    MAX_OUTPUT_TOKENS: '200000',
    // No summary pipeline: every model call of a turn is the agent's own streaming call.
    CONTEXT_BUDGET_TOKENS: '2000000',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  };
}


/** A server child, started (and its database created) or starting; close() stops it and drops the database. */
interface Started {
  child: ServerChild;
  startMs: number;
  databaseUrl?: string;
  close(): Promise<void>;
}

async function startPantheon(cfg: BenchConfig, fake: FakeModel, secret: string, flushMs: number): Promise<Started> {
  let drop = async () => {};
  let databaseUrl: string | undefined;
  if (cfg.db === 'postgres') {
    const { createTestDatabase } = await import('../tests/helpers/services');
    const db = await createTestDatabase();
    databaseUrl = db.url;
    drop = () => db.drop().catch(() => undefined);
  }
  const t0 = performance.now();
  let child: ServerChild;
  try {
    child = await ServerChild.start({ mode: 'pantheon', env: pantheonEnv(fake, secret, flushMs, databaseUrl) });
  } catch (err) {
    await drop();
    throw err;
  }
  let closed = false;
  return {
    child,
    startMs: performance.now() - t0,
    databaseUrl,
    close: async () => {
      if (closed) return;
      closed = true;
      await child.stop();
      await drop();
    },
  };
}

async function startBare(fake: FakeModel): Promise<Started> {
  const t0 = performance.now();
  const child = await ServerChild.start({ mode: 'bare', modelBaseUrl: fake.baseUrl });
  return { child, startMs: performance.now() - t0, close: () => child.stop() };
}

async function pantheonStream(cfg: BenchConfig, procs: ClientProcs, fake: FakeModel, secret: string, s: Started): Promise<SingleNodeResult> {
  const { child } = s;
  log(`pantheon (DELTA_FLUSH_MS=0) up in ${Math.round(s.startMs)} ms; adding ${cfg.memSockets} members to a room and ${cfg.smallRoom} to each of ${cfg.smallRooms} rooms`);
  const room = await setupPantheonRoom(child.url, secret, cfg.memSockets, cfg.tpSessions);
  const smallIds = await setupSmallRooms(child.url, room.tokens, cfg.smallRooms, cfg.smallRoom);
  return singleNodeRuns(
    cfg,
    procs,
    fake,
    {
      label: 'pantheon (flush 0)',
      child,
      small: smallRoomSockets(smallIds, cfg.smallRoom, (u) => room.tokens[u]!),
      big: { roomId: room.roomId, tokens: room.tokens },
      async warmUp(pool) {
        fake.plan = { tokens: 20, delayMs: 0 };
        const warm = await pool.send(0, { roomId: room.roomId, sessionId: room.sessionIds[0]!, content: 'warm up bench-turn-tp-warm' });
        await pool.waitTurnEnd(0, warm.turnId);
        await pool.settle((await pool.stats()).framesOf0, 30_000);
      },
      async drive(pool, _frames, turns) {
        fake.plan = { tokens: cfg.tpTokens, delayMs: 0 };
        await Promise.all(
          room.sessionIds.map(async (sessionId, sess) => {
            for (let t = 0; t < turns; t++) {
              const { turnId } = await pool.send(sess, { roomId: room.roomId, sessionId, content: `Stream it. bench-turn-tp-${sess}-${t}-${randomUUID().slice(0, 8)}` });
              // Socket 0 sees every session's turns; by its turn:end it has all of this turn's frames.
              await pool.waitTurnEnd(0, turnId);
            }
          }),
        );
      },
      latencyTarget: { roomId: room.roomId, sessionId: room.sessionIds[0]! },
    },
    s.startMs,
  );
}

async function pantheonDefault(cfg: BenchConfig, procs: ClientProcs, fake: FakeModel, secret: string, s: Started): Promise<RealtimeResults['pantheonDefault']> {
  const { child } = s;
  const pool = await procs.pool(child.url);
  try {
    log(`pantheon (DELTA_FLUSH_MS=${cfg.flushMs}) up in ${Math.round(s.startMs)} ms; ${cfg.clients} clients`);
    const room = await setupPantheonRoom(child.url, secret, cfg.clients, 1);
    await pool.connect(room.tokens);
    await pool.joinAll(room.roomId);
    log(`pantheon (flush ${cfg.flushMs}): latency and turn overhead, ${cfg.turns} turns x ${cfg.tokens} tokens every ${cfg.tokenDelayMs} ms`);
    const latency = await latencyRun('default', child, procs, pool, fake, cfg, { roomId: room.roomId, sessionId: room.sessionIds[0]! });
    return { latency, flushMs: cfg.flushMs, startMs: s.startMs };
  } finally {
    await pool.dispose();
  }
}

async function bare(cfg: BenchConfig, procs: ClientProcs, fake: FakeModel, s: Started): Promise<SingleNodeResult> {
  const { child } = s;
  log(`bare socket.io up in ${Math.round(s.startMs)} ms`);
  const bigRoom = randomUUID();
  const smallIds = Array.from({ length: cfg.smallRooms }, () => randomUUID());
  return singleNodeRuns(
    cfg,
    procs,
    fake,
    {
      label: 'bare',
      child,
      small: smallRoomSockets<string | undefined>(smallIds, cfg.smallRoom, () => undefined),
      big: { roomId: bigRoom, tokens: new Array<undefined>(cfg.memSockets).fill(undefined) },
      async warmUp(pool) {
        await pool.reset();
        await child.request('blast', { roomId: bigRoom, count: 50, textLen: STAMP_CHARS });
        await pool.settle(50, 30_000);
      },
      async drive(_pool, frames, _turns, burst) {
        await child.request('blast', { roomId: bigRoom, count: frames, textLen: STAMP_CHARS, burst }, 600_000);
      },
      bursts: cfg.blastBursts,
      latencyTarget: { roomId: bigRoom, sessionId: randomUUID() },
    },
    s.startMs,
  );
}

/**
 * One pair of the real-time part: Pantheon (DELTA_FLUSH_MS=0, then the default) and the bare
 * baseline, Pantheon first in odd pairs (`pair` counts from 1) and the baseline first in even ones.
 * With `--quick` every server starts at once, to save time; otherwise each starts when its turn comes.
 */
export async function runRealtime(cfg: BenchConfig, procs: ClientProcs, pair: number): Promise<RealtimeResults> {
  const fake = await startFakeModel();
  const secret = `bench-${randomBytes(24).toString('hex')}`;
  const starters = {
    stream: () => startPantheon(cfg, fake, secret, 0),
    default: () => startPantheon(cfg, fake, secret, cfg.flushMs),
    bare: () => startBare(fake),
  };
  type Key = keyof typeof starters;
  const started = new Map<Key, Promise<Started>>();
  const get = (k: Key): Promise<Started> => {
    let p = started.get(k);
    if (!p) {
      p = starters[k]();
      p.catch(() => undefined); // reported where it is awaited
      started.set(k, p);
    }
    return p;
  };
  const done = async (k: Key) => (await get(k)).close();
  if (cfg.quick) for (const k of Object.keys(starters) as Key[]) void get(k);
  const first = pair % 2 === 1 ? 'pantheon' : 'bare';
  try {
    const runPantheon = async () => {
      const stream = await pantheonStream(cfg, procs, fake, secret, await get('stream'));
      await done('stream');
      const def = await pantheonDefault(cfg, procs, fake, secret, await get('default'));
      await done('default');
      return { stream, def };
    };
    const runBare = async () => {
      const b = await bare(cfg, procs, fake, await get('bare'));
      await done('bare');
      return b;
    };
    let p: Awaited<ReturnType<typeof runPantheon>>;
    let b: SingleNodeResult;
    if (first === 'pantheon') {
      p = await runPantheon();
      b = await runBare();
    } else {
      b = await runBare();
      p = await runPantheon();
    }
    return { first, pantheonStream: p.stream, pantheonDefault: p.def, bare: b };
  } finally {
    for (const s of started.values()) await s.then((x) => x.close()).catch(() => undefined);
    await fake.close();
  }
}
