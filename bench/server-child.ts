/**
 * The server under test, in its own process so that its CPU time and memory are its own: either
 * Pantheon (built by the composition root, exactly as `npm start` builds it) or a bare Socket.IO
 * server (the baseline). Driven by the bench over the IPC channel; see child.ts.
 *
 * The bare server does the least a real-time relay can do: `room:join` joins a channel and
 * broadcasts a `presence` notice to it,
 * `message:send` acks at once, streams the same fake model over HTTP and broadcasts each content
 * chunk as an `agent:delta` with the same envelope, then `turn:end`; `blast` broadcasts N frames
 * of a given size as fast as the event loop lets it. With `redis` (the scaled baseline) it does the
 * same through @socket.io/redis-adapter, so a broadcast on one node reaches the sockets of all.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Server } from 'socket.io';
import type { App } from '../src/app';

/**
 * `redis` (scaled baseline): the bare server broadcasts through `@socket.io/redis-adapter`, so
 * that several bare servers share rooms, as Pantheon's nodes do in scaled mode.
 */
export type ChildStart = { mode: 'pantheon'; env: Record<string, string> } | { mode: 'bare'; modelBaseUrl: string; redis?: { url: string; keyPrefix: string } };
export type ChildInit = ChildStart & { type: 'init' };

export type ChildRequest =
  | { id: number; type: 'mem' }
  | { id: number; type: 'cpu' }
  | { id: number; type: 'sockets' }
  | { id: number; type: 'blast'; roomId: string; count: number; textLen: number; burst?: number }
  | { id: number; type: 'close' };

export interface MemSample {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

export interface CpuSample {
  /** user + system CPU time of the process, microseconds */
  cpuUs: number;
  wallMs: number;
}

const send = (msg: unknown) => process.send?.(msg);

let closeServer: (() => Promise<void>) | undefined;
let io: Server | undefined;
let seq = 0;

async function startPantheon(env: Record<string, string>): Promise<string> {
  // Loaded here so the bare mode does not pay for (or keep in memory) the app's modules.
  const { createApp } = await import('../src/app');
  const { loadConfig } = await import('../src/config/config');
  const ownDir = !env.DATA_DIR;
  const dataDir = env.DATA_DIR ?? mkdtempSync(path.join(os.tmpdir(), 'pantheon-bench-'));
  // The app reads API keys named by MODELS from process.env.
  for (const [k, v] of Object.entries(env)) process.env[k] = v;
  const app: App = await createApp(loadConfig({ ...env, DATA_DIR: dataDir }));
  io = app.realtime.io as unknown as Server;
  closeServer = async () => {
    await app.close();
    if (ownDir) rmSync(dataDir, { recursive: true, force: true });
  };
  return app.url;
}

async function startBare(modelBaseUrl: string, redis?: { url: string; keyPrefix: string }): Promise<string> {
  const http: HttpServer = createServer();
  // The transport options Pantheon uses (src/realtime/socket-server.ts), without its auth and handlers.
  const server = new Server(http, { path: '/socket.io', serveClient: false, maxHttpBufferSize: 2 * 1024 * 1024, cors: { origin: '*' } });
  io = server;
  let closeRedis = async () => {};
  if (redis) {
    // Loaded here so the single-node bare server does not pay for (or keep in memory) these modules.
    const { Redis } = await import('ioredis');
    const { createAdapter } = await import('@socket.io/redis-adapter');
    const pub = new Redis(redis.url, { connectionName: `${redis.keyPrefix}bare-pub` });
    const sub = pub.duplicate({ connectionName: `${redis.keyPrefix}bare-sub` });
    for (const [name, conn] of [['pub', pub], ['sub', sub]] as const) {
      conn.on('error', (err: Error) => console.error(`[bench] bare redis ${name}: ${err.message}`));
    }
    // The key only names the adapter's channels; it keeps this run apart from anything else on that Redis.
    server.adapter(createAdapter(pub, sub, { key: `${redis.keyPrefix}socket.io` }));
    closeRedis = async () => {
      await Promise.all([pub, sub].map((c) => c.quit().catch(() => c.disconnect())));
    };
  }
  const emit = (roomId: string, event: string, payload: Record<string, unknown>) =>
    server.to(roomId).emit(event, { roomId, seq: ++seq, ts: Date.now(), ...payload });

  async function relayTurn(roomId: string, sessionId: string, turnId: string, content: string) {
    const res = await fetch(`${modelBaseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer bench' },
      body: JSON.stringify({ model: 'fake-model', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content }] }),
    });
    if (!res.ok || !res.body) throw new Error(`model answered ${res.status}`);
    const decoder = new TextDecoder();
    let buf = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      let at: number;
      while ((at = buf.indexOf('\n\n')) >= 0) {
        const line = buf.slice(0, at);
        buf = buf.slice(at + 2);
        if (!line.startsWith('data: ')) continue;
        const data = line.slice(6);
        if (data === '[DONE]') continue;
        const text = (JSON.parse(data) as { choices?: { delta?: { content?: string } }[] }).choices?.[0]?.delta?.content;
        if (text) emit(roomId, 'agent:delta', { turnId, agentKey: 'bench', text });
      }
    }
    emit(roomId, 'turn:end', { turnId, sessionId, status: 'completed', usage: { inputTokens: 0, outputTokens: 0, costUsd: 0 } });
  }

  server.on('connection', (socket) => {
    socket.on('room:join', (p: { roomId: string }, ack?: (a: unknown) => void) => {
      socket.join(p.roomId);
      ack?.({ ok: true, mode: 'snapshot', seq });
      // The least a shared room needs on a join: the others hear who came (Pantheon's `presence`).
      emit(p.roomId, 'presence', { userId: socket.id, displayName: 'Bench user', kind: 'user', state: 'joined' });
    });
    socket.on('message:send', (p: { roomId: string; sessionId: string; content: string }, ack?: (a: unknown) => void) => {
      const turnId = randomUUID();
      ack?.({ ok: true, messageId: randomUUID(), turnId, duplicate: false });
      relayTurn(p.roomId, p.sessionId, turnId, p.content).catch((err: unknown) => {
        emit(p.roomId, 'turn:end', { turnId, sessionId: p.sessionId, status: 'failed', error: { code: 'MODEL', message: String(err) } });
      });
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  closeServer = async () => {
    server.disconnectSockets(true);
    server.engine.close();
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
    await closeRedis();
  };
  return `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
}

/** Broadcasts `count` frames, `burst` of them per turn of the event loop. */
async function blast(roomId: string, count: number, textLen: number, burst = 1): Promise<void> {
  if (!io) throw new Error('not started');
  const text = 'x'.repeat(textLen);
  const turnId = randomUUID();
  for (let i = 0; i < count; i++) {
    io.to(roomId).emit('agent:delta', { roomId, seq: ++seq, ts: Date.now(), turnId, agentKey: 'bench', text });
    if ((i + 1) % burst === 0) await new Promise<void>((r) => setImmediate(r));
  }
}

async function gcNow(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run the child with --expose-gc');
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise<void>((r) => setTimeout(r, 20));
  }
}

async function handle(req: ChildRequest): Promise<unknown> {
  switch (req.type) {
    case 'mem': {
      await gcNow();
      const m = process.memoryUsage();
      return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers } satisfies MemSample;
    }
    case 'cpu': {
      const c = process.cpuUsage();
      return { cpuUs: c.user + c.system, wallMs: performance.now() } satisfies CpuSample;
    }
    case 'sockets':
      return io?.engine.clientsCount ?? 0;
    case 'blast':
      await blast(req.roomId, req.count, req.textLen, req.burst);
      return null;
    case 'close':
      await closeServer?.();
      closeServer = undefined;
      return null;
  }
}

process.on('message', (msg: ChildInit | ChildRequest) => {
  if (msg.type === 'init') {
    const started = msg.mode === 'pantheon' ? startPantheon(msg.env) : startBare(msg.modelBaseUrl, msg.redis);
    started.then(
      (url) => send({ type: 'ready', url, pid: process.pid }),
      (err: unknown) => send({ type: 'failed', error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
    );
    return;
  }
  handle(msg).then(
    (result) => {
      // After `close`, the answer is the last thing sent; then the channel closes and we exit.
      process.send?.({ id: msg.id, ok: true, result }, undefined, {}, () => {
        if (msg.type === 'close') process.disconnect?.();
      });
    },
    (err: unknown) => send({ id: msg.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
});

// The bench went away (crashed or was killed): do not linger.
process.on('disconnect', () => {
  void (closeServer?.() ?? Promise.resolve()).finally(() => process.exit(0));
});
