import { io, type Socket } from 'socket.io-client';
import { clientEvents, type ClientEventName } from '../../src/contract/client-events';
import { errorBodySchema } from '../../src/contract/dto';
import type { ClientToServerEvents, RoomEvent, ServerToClientEvents } from '../../src/contract/events';

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface Received {
  event: string;
  data: RoomEvent & Record<string, any>;
}

/** A test client: records every event in arrival order and waits for conditions without sleeping. */
export class TestClient {
  readonly socket: ClientSocket;
  readonly received: Received[] = [];
  private waiters: { check: () => boolean; resolve: () => void }[] = [];

  constructor(url: string, token: string | (() => string), opts: { autoConnect?: boolean } = {}) {
    this.socket = io(url, {
      transports: ['websocket'],
      auth: (cb) => cb({ token: typeof token === 'function' ? token() : token }),
      reconnection: false,
      autoConnect: opts.autoConnect ?? true,
      forceNew: true,
    });
    this.socket.onAny((event: string, data: any) => {
      this.received.push({ event, data });
      this.poke();
    });
  }

  private poke() {
    for (const w of [...this.waiters]) {
      if (w.check()) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  }

  connected(): Promise<void> {
    if (this.socket.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.socket.once('connect', () => resolve());
      this.socket.once('connect_error', reject);
      if (!this.socket.active) this.socket.connect();
    });
  }

  /**
   * Emits with an ack and resolves with the ack body. Every ack is checked against the contract's
   * schemas (the event's result on success, the error body otherwise): an ack that does not match
   * the contract rejects, so every socket test also tests the contract.
   */
  request<T = any>(event: string, payload?: unknown): Promise<T> {
    return new Promise((resolve, reject) => {
      (this.socket as any).timeout(10_000).emit(event, payload, (err: Error | null, ack: any) => {
        if (err) return resolve({ ok: false, error: { code: 'ACK_TIMEOUT', message: err.message } } as T);
        const problem = contractProblem(event, ack);
        if (problem) reject(new Error(`the ack of ${event} breaks the contract: ${problem}`));
        else resolve(ack as T);
      });
    });
  }

  /** Resolves when `check` holds (checked on every event), or rejects after `timeoutMs`. */
  until(check: () => boolean, what = 'condition', timeoutMs = 15_000): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.check !== check);
        reject(new Error(`timed out waiting for ${what}; got ${this.received.length} events`));
      }, timeoutMs);
      this.waiters.push({
        check,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  /**
   * The room's sequenced events as received (of one name when given). `presence` also lists each
   * change of a `presence:batch`, with the batch's envelope and `batched: true`, in order: the
   * presence a client applies, however it was grouped.
   */
  roomEvents(roomId: string, name?: string): Received[] {
    const mine = this.received.filter((r) => r.data?.roomId === roomId && typeof r.data?.seq === 'number');
    if (name !== 'presence') return mine.filter((r) => !name || r.event === name);
    return mine.flatMap((r): Received[] => {
      if (r.event === 'presence') return [r];
      if (r.event !== 'presence:batch') return [];
      const { changes, ...envelope } = r.data as RoomEvent & { changes: Record<string, unknown>[] };
      return changes.map((c) => ({ event: 'presence', data: { ...envelope, ...c, batched: true } as Received['data'] }));
    });
  }

  seqs(roomId: string): number[] {
    return this.roomEvents(roomId).map((r) => r.data.seq);
  }

  close() {
    this.socket.disconnect();
  }
}

/** Connects and resolves with the connect_error's data (code) or 'connected'. */
export function tryConnect(url: string, token: unknown): Promise<{ code?: string; message?: string } | 'connected'> {
  const s = io(url, { transports: ['websocket'], auth: { token }, reconnection: false, forceNew: true });
  return new Promise((resolve) => {
    s.once('connect', () => {
      s.disconnect();
      resolve('connected');
    });
    s.once('connect_error', (err: Error & { data?: { code?: string } }) => {
      s.disconnect();
      resolve({ code: err.data?.code, message: err.message });
    });
  });
}

/** Why an ack does not match the contract, or null when it does. */
export function contractProblem(event: string, ack: any): string | null {
  if (typeof ack !== 'object' || ack === null || typeof ack.ok !== 'boolean') return 'not an { ok } object';
  const known = Object.hasOwn(clientEvents, event);
  const { ok: _ok, ...body } = ack;
  const r = ack.ok
    ? known
      ? clientEvents[event as ClientEventName].result.safeParse(body)
      : { success: false as const, error: new Error('ok: true for an event outside the contract') }
    : errorBodySchema.safeParse(ack.error);
  return r.success ? null : r.error.message;
}
