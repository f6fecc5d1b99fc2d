import { io, type Socket } from 'socket.io-client';
import { TOKEN_RE } from './fake-model';
import { mapLimit, nowMs, Samples, sleep } from './stats';

interface DeltaFrame {
  roomId: string;
  seq: number;
  turnId: string;
  text: string;
}

/**
 * Many socket.io-client sockets in one process, counting what they receive. The same class
 * drives Pantheon and the bare baseline, so both pay the same client-side cost. It runs in the
 * client processes (client-child.ts); the bench drives it through RemotePool (remote-pool.ts).
 */
export class ClientPool {
  readonly sockets: (Socket | undefined)[] = [];
  /** agent:delta frames received, per socket and summed. */
  framesBy: number[] = [];
  frames = 0;
  textChars = 0;
  firstMs = Number.NaN;
  lastMs = Number.NaN;
  /** Per token: receive time minus the time the fake model wrote it (only while `recordLatency`). */
  readonly latency = new Samples();
  recordLatency = false;
  /** `${socket}:${turnId}` -> when that socket received the turn's turn:end, and who waits for one. */
  private readonly socketTurnEnds = new Map<string, number>();
  private readonly socketTurnWaiters = new Map<string, (t: number) => void>();

  constructor(private readonly url: string) {}

  /** Connects one socket per token (undefined: no auth, for the bare server), `concurrency` at a time. */
  async connect(tokens: (string | undefined)[], concurrency = 50): Promise<void> {
    const base = this.sockets.length;
    await mapLimit(tokens, concurrency, (token, i) => this.open(base + i, token));
  }

  private open(index: number, token: string | undefined): Promise<void> {
    const s = io(this.url, {
      transports: ['websocket'],
      ...(token ? { auth: { token } } : {}),
      reconnection: false,
      forceNew: true,
      timeout: 60_000,
    });
    this.sockets[index] = s;
    this.framesBy[index] = 0;
    s.on('agent:delta', (d: DeltaFrame) => {
      const t = nowMs();
      this.frames++;
      this.framesBy[index]!++;
      this.textChars += d.text.length;
      if (Number.isNaN(this.firstMs)) this.firstMs = t;
      this.lastMs = t;
      if (this.recordLatency) {
        TOKEN_RE.lastIndex = 0;
        for (let m = TOKEN_RE.exec(d.text); m; m = TOKEN_RE.exec(d.text)) this.latency.push(t - Number(m[1]));
      }
    });
    s.on('turn:end', (d: { turnId: string }) => {
      const t = nowMs();
      const key = `${index}:${d.turnId}`;
      this.socketTurnEnds.set(key, t);
      this.socketTurnWaiters.get(key)?.(t);
      this.socketTurnWaiters.delete(key);
    });
    return new Promise((resolve, reject) => {
      s.once('connect', () => resolve());
      s.once('connect_error', (err: Error & { data?: unknown }) => reject(new Error(`socket ${index} could not connect: ${err.message} ${JSON.stringify(err.data ?? '')}`)));
    });
  }

  /**
   * Joins every open socket to the room (or socket i to `roomId[i]`), `concurrency` at a time;
   * resolves with each join's ack time (ms), in order.
   */
  async joinAll(roomId: string | readonly string[], concurrency = 50): Promise<number[]> {
    const live = this.sockets.flatMap((s, i) => (s ? [{ s, roomId: typeof roomId === 'string' ? roomId : roomId[i]! }] : []));
    return mapLimit(live, concurrency, async ({ s, roomId }) => {
      const t = nowMs();
      const ack = (await s.timeout(60_000).emitWithAck('room:join', { roomId })) as { ok: boolean; error?: unknown };
      if (!ack.ok) throw new Error(`room:join refused: ${JSON.stringify(ack.error)}`);
      return nowMs() - t;
    });
  }

  /** message:send from socket `index`; resolves with the turn id and the send/ack times. */
  async send(index: number, p: { roomId: string; sessionId: string; content: string }): Promise<{ turnId: string; sentMs: number; ackMs: number }> {
    const s = this.sockets[index];
    if (!s) throw new Error(`no socket ${index}`);
    const sentMs = nowMs();
    const ack = (await s.timeout(60_000).emitWithAck('message:send', { ...p, clientMsgId: `bench-${sentMs}-${Math.random().toString(36).slice(2)}` })) as {
      ok: boolean;
      turnId?: string;
      error?: unknown;
    };
    const ackMs = nowMs();
    if (!ack.ok || !ack.turnId) throw new Error(`message:send refused: ${JSON.stringify(ack.error)}`);
    return { turnId: ack.turnId, sentMs, ackMs };
  }

  /**
   * Resolves with the time socket `index` received the turn's `turn:end`. A room's events reach
   * each socket in order, so by then that socket has every frame of the turn.
   */
  waitTurnEnd(index: number, turnId: string, timeoutMs = 120_000): Promise<number> {
    const key = `${index}:${turnId}`;
    const seen = this.socketTurnEnds.get(key);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.socketTurnWaiters.delete(key);
        reject(new Error(`socket ${index} got no turn:end for ${turnId} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.socketTurnWaiters.set(key, (t) => {
        clearTimeout(timer);
        resolve(t);
      });
    });
  }

  /** Waits until every open socket has received `perSocket` frames, or the count stops moving. */
  async settle(perSocket: number, timeoutMs = 120_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    let last = -1;
    let still = 0;
    for (;;) {
      const open = this.framesBy.filter((_, i) => this.sockets[i]);
      if (open.every((n) => n >= perSocket)) return true;
      if (this.frames === last) {
        if (++still >= 20) return false; // 2 s without a frame: they are not coming
      } else still = 0;
      last = this.frames;
      if (Date.now() > deadline) return false;
      await sleep(100);
    }
  }

  reset(): void {
    this.frames = 0;
    this.textChars = 0;
    this.firstMs = Number.NaN;
    this.lastMs = Number.NaN;
    this.framesBy = this.framesBy.map(() => 0);
    this.latency.clear();
  }

  get openCount(): number {
    return this.sockets.filter(Boolean).length;
  }

  /** Disconnects sockets [from, to). */
  closeRange(from: number, to = this.sockets.length): void {
    for (let i = from; i < to; i++) {
      this.sockets[i]?.disconnect();
      this.sockets[i] = undefined;
    }
  }

  closeAll(): void {
    this.closeRange(0);
  }
}

/** Polls the server until it counts `n` engine connections (after a disconnect wave). */
export async function waitServerSockets(count: () => Promise<number>, n: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await count()) !== n) {
    if (Date.now() > deadline) throw new Error(`server still has ${await count()} sockets, expected ${n}`);
    await sleep(100);
  }
}
