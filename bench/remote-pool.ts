import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ClientRequest, PoolStats } from './client-child';
import { nowMs } from './stats';

const ENTRY = fileURLToPath(new URL('./client-child.ts', import.meta.url));

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };
type Req = ClientRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/** One client process (client-child.ts), spoken to over IPC with the advanced serialization. */
export class ClientProc {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly exited: Promise<void>;
  /** Its clock minus ours, and the round trip the offset was measured with (the offset's error is at most half of it). */
  offsetMs = 0;
  calibrationRttMs = Number.NaN;

  private constructor(private readonly proc: ChildProcess) {
    this.exited = new Promise((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) resolve();
      else proc.once('exit', () => resolve());
    });
    proc.on('message', (msg: { id?: number; ok?: boolean; result?: unknown; error?: string }) => {
      if (msg.id === undefined) return;
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.result);
      else p.reject(new Error(msg.error));
    });
    proc.once('exit', (code, signal) => {
      for (const p of this.pending.values()) p.reject(new Error(`client process exited (${code ?? signal})`));
      this.pending.clear();
    });
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  static start(timeoutMs = 120_000): Promise<ClientProc> {
    const proc = fork(ENTRY, [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(new Error(`client process did not start within ${timeoutMs} ms`));
      }, timeoutMs);
      const onExit = (code: number | null) => {
        clearTimeout(timer);
        reject(new Error(`client process exited during start (code ${code})`));
      };
      proc.once('exit', onExit);
      proc.on('message', function first(msg: { type?: string }) {
        if (msg.type !== 'ready') return;
        clearTimeout(timer);
        proc.off('exit', onExit);
        proc.off('message', first);
        resolve(new ClientProc(proc));
      });
    });
  }

  request<T>(req: Req, timeoutMs = 300_000): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`client process did not answer "${req.type}" within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.proc.send({ ...req, id });
    });
  }

  /**
   * Measures its clock against ours (the round trip with the shortest time of `samples`: its
   * clock read is taken to be halfway) and tells it the offset, so that it reports our times.
   */
  async calibrate(samples = 20): Promise<void> {
    let best = { rtt: Number.POSITIVE_INFINITY, offset: 0 };
    for (let i = 0; i < samples; i++) {
      const t0 = nowMs();
      const theirs = await this.request<number>({ type: 'now' });
      const t1 = nowMs();
      if (t1 - t0 < best.rtt) best = { rtt: t1 - t0, offset: theirs - (t0 + t1) / 2 };
    }
    this.offsetMs = best.offset;
    this.calibrationRttMs = best.rtt;
    await this.request({ type: 'offset', ms: -best.offset });
  }

  /** user + system CPU time of the process, ms. */
  async cpuMs(): Promise<number> {
    return (await this.request<number>({ type: 'cpu' })) / 1000;
  }

  async stop(): Promise<void> {
    if (this.proc.connected) this.proc.disconnect();
    const killer = setTimeout(() => this.proc.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(killer);
  }
}

/** The client processes of a run (two), started once and shared by every part. */
export class ClientProcs {
  private nextPool = 1;

  private constructor(readonly procs: ClientProc[]) {}

  static async start(count = 2): Promise<ClientProcs> {
    const started = await Promise.allSettled(Array.from({ length: count }, () => ClientProc.start()));
    const procs = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      await Promise.all(procs.map((p) => p.stop()));
      throw failed.reason;
    }
    for (const p of procs) await p.calibrate();
    return new ClientProcs(procs);
  }

  /** CPU time of all client processes, ms. */
  async cpuMs(): Promise<number> {
    const each = await Promise.all(this.procs.map((p) => p.cpuMs()));
    return each.reduce((s, v) => s + v, 0);
  }

  info(): { pid: number | undefined; clockOffsetMs: number; calibrationRttMs: number }[] {
    return this.procs.map((p) => ({ pid: p.pid, clockOffsetMs: p.offsetMs, calibrationRttMs: p.calibrationRttMs }));
  }

  /** A pool of sockets to `url`, spread over every client process (socket i in process i mod n). */
  async pool(url: string): Promise<RemotePool> {
    const shards = this.procs.map((proc) => ({ proc, id: this.nextPool++ }));
    await Promise.all(shards.map((s) => s.proc.request({ type: 'open', pool: s.id, url })));
    return new RemotePool(shards);
  }

  async stop(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.stop()));
  }
}

export interface RemoteStats {
  frames: number;
  textChars: number;
  firstMs: number;
  lastMs: number;
  open: number;
  /** Frames received by socket 0 (the sender of the runs). */
  framesOf0: number;
}

/**
 * A socket pool spread over the client processes: socket i lives in process i mod n, as socket
 * floor(i / n) of that process's pool. The same calls as ClientPool, asynchronous; every time it
 * returns is on this process's clock.
 */
export class RemotePool {
  private readonly turnShard = new Map<string, number>();
  private size = 0;

  constructor(private readonly shards: { proc: ClientProc; id: number }[]) {}

  private where(index: number): { shard: { proc: ClientProc; id: number }; local: number; s: number } {
    const s = index % this.shards.length;
    return { shard: this.shards[s]!, local: Math.floor(index / this.shards.length), s };
  }

  /** Items for new sockets size, size + 1, ..., grouped by the process each goes to, in order. */
  private split<T>(items: readonly T[]): T[][] {
    const out: T[][] = this.shards.map(() => []);
    items.forEach((item, i) => out[(this.size + i) % this.shards.length]!.push(item));
    return out;
  }

  /** Connects one socket per token (undefined: no auth), `concurrency` in flight over all processes. */
  async connect(tokens: (string | undefined)[], concurrency = 50): Promise<void> {
    const parts = this.split(tokens.map((t) => t ?? null));
    const per = Math.max(1, Math.ceil(concurrency / this.shards.length));
    await Promise.all(this.shards.map((sh, s) => (parts[s]!.length ? sh.proc.request({ type: 'connect', pool: sh.id, tokens: parts[s]!, concurrency: per }) : null)));
    this.size += tokens.length;
  }

  /**
   * Joins every open socket to `roomId` (or socket i to roomId[i]), `concurrency` in flight over
   * all processes; resolves with the ack times (ms) of every join.
   */
  async joinAll(roomId: string | readonly string[], concurrency = 50): Promise<number[]> {
    const per = Math.max(1, Math.ceil(concurrency / this.shards.length));
    const roomIds = (s: number): string | string[] => {
      if (typeof roomId === 'string') return roomId;
      const mine: string[] = [];
      for (let i = s; i < roomId.length; i += this.shards.length) mine.push(roomId[i]!);
      return mine;
    };
    const each = await Promise.all(this.shards.map((sh, s) => sh.proc.request<number[]>({ type: 'join', pool: sh.id, roomIds: roomIds(s), concurrency: per })));
    return each.flat();
  }

  async send(index: number, payload: { roomId: string; sessionId: string; content: string }): Promise<{ turnId: string; sentMs: number; ackMs: number }> {
    const { shard, local, s } = this.where(index);
    const r = await shard.proc.request<{ turnId: string; sentMs: number; ackMs: number }>({ type: 'send', pool: shard.id, index: local, payload });
    this.turnShard.set(r.turnId, s);
    return r;
  }

  /** When socket `index` received the turn's turn:end (by then it has every frame of the turn). */
  waitTurnEnd(index: number, turnId: string, timeoutMs = 120_000): Promise<number> {
    const { shard, local } = this.where(index);
    return shard.proc.request<number>({ type: 'turnEnd', pool: shard.id, index: local, turnId, timeoutMs }, timeoutMs + 10_000);
  }

  /** Waits until every open socket has `perSocket` frames (or the count stops moving); true when all have. */
  async settle(perSocket: number, timeoutMs = 120_000): Promise<boolean> {
    const each = await Promise.all(this.shards.map((sh) => sh.proc.request<boolean>({ type: 'settle', pool: sh.id, perSocket, timeoutMs }, timeoutMs + 10_000)));
    return each.every(Boolean);
  }

  async reset(): Promise<void> {
    await Promise.all(this.shards.map((sh) => sh.proc.request({ type: 'reset', pool: sh.id })));
  }

  async recordLatency(on: boolean): Promise<void> {
    await Promise.all(this.shards.map((sh) => sh.proc.request({ type: 'record', pool: sh.id, on })));
  }

  async stats(): Promise<RemoteStats> {
    const each = await Promise.all(this.shards.map((sh) => sh.proc.request<PoolStats>({ type: 'stats', pool: sh.id })));
    const first = each.map((e) => e.firstMs).filter(Number.isFinite);
    const last = each.map((e) => e.lastMs).filter(Number.isFinite);
    return {
      frames: each.reduce((n, e) => n + e.frames, 0),
      textChars: each.reduce((n, e) => n + e.textChars, 0),
      firstMs: first.length ? Math.min(...first) : Number.NaN,
      lastMs: last.length ? Math.max(...last) : Number.NaN,
      open: each.reduce((n, e) => n + e.open, 0),
      framesOf0: each[0]!.framesBy[0] ?? 0,
    };
  }

  /** Every token latency sample (ms) of every socket since the last reset. */
  async latencies(): Promise<Float64Array> {
    const each = await Promise.all(this.shards.map((sh) => sh.proc.request<Float64Array>({ type: 'latency', pool: sh.id })));
    const all = new Float64Array(each.reduce((n, e) => n + e.length, 0));
    let at = 0;
    for (const e of each) {
      all.set(e, at);
      at += e.length;
    }
    return all;
  }

  /** Disconnects sockets [from, end). */
  async closeRange(from: number): Promise<void> {
    const n = this.shards.length;
    await Promise.all(this.shards.map((sh, s) => sh.proc.request({ type: 'closeRange', pool: sh.id, from: Math.max(0, Math.ceil((from - s) / n)) })));
  }

  /** Closes every socket and forgets the pool in the client processes. */
  async dispose(): Promise<void> {
    await Promise.all(this.shards.map((sh) => sh.proc.request({ type: 'dispose', pool: sh.id }).catch(() => undefined)));
  }
}
