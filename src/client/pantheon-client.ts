import { io, type Socket } from 'socket.io-client';
import type { Ack, ClientEventName, ClientPayload, ClientResult, ClientToServerEvents, JoinAck, RoomEvent, RoomEventName, RoomSnapshot, ServerToClientEvents } from '../contract/events';

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface PantheonClientOptions {
  /** A token, or a function that returns a fresh one at every (re)connection. */
  token: string | (() => string | Promise<string>);
  /** Socket.IO client options to pass through (transports, reconnection delays...). */
  socket?: Parameters<typeof io>[1];
  /** Ack timeout in milliseconds. */
  timeoutMs?: number;
}

type RoomHandler<E extends RoomEventName> = (data: RoomEvent<E>) => void;

/**
 * The typed client: one socket, rooms joined by id, and the room `seq` kept per room. Each room
 * event reaches handlers once and in order; after a reconnect the client rejoins every room with
 * its `lastSeq`, so missed events are replayed, or a snapshot arrives (`onSnapshot`) when the
 * server's log no longer reaches back.
 */
export class PantheonClient {
  readonly socket: ClientSocket;
  private readonly lastSeq = new Map<string, number>();
  private readonly rooms = new Set<string>();
  private readonly handlers = new Map<string, Set<(data: never) => void>>();
  private readonly snapshotHandlers = new Set<(s: RoomSnapshot) => void>();
  private readonly timeoutMs: number;
  private closed = false;

  constructor(url: string, opts: PantheonClientOptions) {
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.socket = io(url, {
      transports: ['websocket'],
      ...opts.socket,
      auth: (cb) => {
        void Promise.resolve(typeof opts.token === 'function' ? opts.token() : opts.token).then((token) => cb({ token }));
      },
    });
    this.socket.onAny((event: string, data: unknown) => this.dispatch(event, data));
    // Rejoin after every reconnection (not the first connect), continuing from the last seq seen.
    this.socket.io.on('reconnect', () => this.rejoinAll());
    // Socket.IO does not reconnect by itself when the server ended the session (a disconnect
    // packet: a node shutting down, an expired token): reconnect unless this client closed it.
    // The token function, if given, is asked again for the new connection.
    this.socket.on('disconnect', (reason) => {
      if (reason !== 'io server disconnect' || this.closed) return;
      this.socket.once('connect', () => this.rejoinAll());
      this.socket.connect();
    });
  }

  private dispatch(event: string, data: unknown) {
    const d = data as { roomId?: string; seq?: number } | undefined;
    if (d && typeof d.roomId === 'string' && typeof d.seq === 'number') {
      const last = this.lastSeq.get(d.roomId) ?? 0;
      if (d.seq <= last) return; // a duplicate
      this.lastSeq.set(d.roomId, d.seq);
    }
    for (const h of this.handlers.get(event) ?? []) (h as (x: unknown) => void)(data);
  }

  /** Listens to a room event (deduplicated, in seq order) or to `typing`, `room:removed`, `auth:expired`. */
  on<E extends keyof ServerToClientEvents>(event: E, handler: E extends RoomEventName ? RoomHandler<E> : ServerToClientEvents[E]): () => void {
    let set = this.handlers.get(event);
    if (!set) this.handlers.set(event, (set = new Set()));
    set.add(handler as (data: never) => void);
    return () => set.delete(handler as (data: never) => void);
  }

  /** Called when a join answers with a snapshot instead of a replay: redraw the room from it. */
  onSnapshot(handler: (s: RoomSnapshot) => void): () => void {
    this.snapshotHandlers.add(handler);
    return () => this.snapshotHandlers.delete(handler);
  }

  lastSeqOf(roomId: string): number | undefined {
    return this.lastSeq.get(roomId);
  }

  private request<E extends ClientEventName>(event: E, payload: ClientPayload<E>): Promise<Ack<ClientResult<E>>> {
    type T = Ack<ClientResult<E>>;
    return new Promise((resolve, reject) => {
      (this.socket.timeout(this.timeoutMs) as unknown as { emit(e: string, p: unknown, cb: (err: Error | null, a: T) => void): void }).emit(
        event,
        payload,
        (err, ack) => (err ? reject(err) : resolve(ack)),
      );
    });
  }

  async join(roomId: string): Promise<Extract<JoinAck, { ok: true }>> {
    const lastSeq = this.lastSeq.get(roomId);
    const ack: JoinAck = await this.request('room:join', { roomId, ...(lastSeq !== undefined ? { lastSeq } : {}) });
    if (!ack.ok) throw Object.assign(new Error(ack.error.message), { code: ack.error.code });
    this.rooms.add(roomId);
    if (ack.mode === 'snapshot') {
      this.lastSeq.set(roomId, ack.seq);
      for (const h of this.snapshotHandlers) h(ack.snapshot);
    }
    return ack;
  }

  async leave(roomId: string): Promise<void> {
    this.rooms.delete(roomId);
    const ack = await this.request('room:leave', { roomId });
    if (!ack.ok) throw Object.assign(new Error(ack.error.message), { code: ack.error.code });
  }

  async send(p: { roomId: string; sessionId: string; content: string; clientMsgId?: string; fileIds?: string[] }) {
    const clientMsgId = p.clientMsgId ?? globalThis.crypto.randomUUID();
    const ack = await this.request('message:send', { ...p, clientMsgId });
    if (!ack.ok) throw Object.assign(new Error(ack.error.message), { code: ack.error.code });
    return { messageId: ack.messageId, turnId: ack.turnId, duplicate: ack.duplicate, clientMsgId };
  }

  async cancel(roomId: string, turnId: string): Promise<ClientResult<'turn:cancel'>> {
    const ack = await this.request('turn:cancel', { roomId, turnId });
    if (!ack.ok) throw Object.assign(new Error(ack.error.message), { code: ack.error.code });
    return { status: ack.status, cancelRequested: ack.cancelRequested };
  }

  typing(roomId: string, sessionId: string, on: boolean): void {
    this.socket.emit('typing', { roomId, sessionId, on });
  }

  private rejoinAll() {
    for (const roomId of this.rooms) void this.join(roomId).catch(() => undefined);
  }

  close(): void {
    this.closed = true;
    this.socket.disconnect();
  }
}
