import { io, type Socket } from 'socket.io-client';
import type { Ack, ClientEventName, ClientPayload, ClientResult, ClientToServerEvents, JoinAck, RoomEvent, RoomEventName, RoomSnapshot, ServerToClientEvents } from '../contract/events';
import type { FileStatus } from '../contract/dto';
import { PantheonError, PantheonRest, type UploadOptions, type UploadSource } from './rest';
import { RoomModel, type RoomEventSource } from './room-model';

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface PantheonClientOptions {
  /** A token, or a function that returns a fresh one at every (re)connection. */
  token: string | (() => string | Promise<string>);
  /**
   * Asked for a new token when the server says the one in use expired (`auth:expired`, a refused
   * handshake, a REST 401 TOKEN_EXPIRED); the client then reconnects with it. Without it, a token
   * function is asked again.
   */
  refreshToken?: () => string | Promise<string>;
  /** Socket.IO client options to pass through (transports, reconnection delays...). */
  socket?: Parameters<typeof io>[1];
  /** Ack timeout in milliseconds. */
  timeoutMs?: number;
  /** Attempts of a `message:send` whose ack did not arrive (the same clientMsgId each time; the server answers a repeat with its first message). */
  sendAttempts?: number;
}

/** `connecting` until the first connection, `reconnecting` while a lost one is being restored. */
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

/** Codes of a handshake the server refused for its token: a fresh token may be accepted. */
const TOKEN_CODES = new Set(['TOKEN_EXPIRED', 'TOKEN_INVALID', 'UNAUTHENTICATED']);
/** Codes of a send that will not succeed by sending again. */
const RETRYABLE_SEND = new Set(['RATE_LIMITED', 'INTERNAL']);

/** A message id for `clientMsgId`: random, URL-safe, works where `crypto.randomUUID` is missing (plain-HTTP pages). */
export function newClientMsgId(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string; getRandomValues?: (a: Uint8Array) => Uint8Array } }).crypto;
  if (c?.randomUUID) {
    try {
      return c.randomUUID();
    } catch {
      /* not a secure context */
    }
  }
  const bytes = new Uint8Array(16);
  if (c?.getRandomValues) c.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

type RoomHandler<E extends RoomEventName> = (data: RoomEvent<E>) => void;

/** Where a client stands in a room's event stream: the last event's epoch and seq. */
interface Position {
  epoch: string;
  seq: number;
}

/**
 * The typed client: one socket, rooms joined by id, and the room's stream position (epoch and
 * `seq`) kept per room. Each room event reaches handlers once and in order. A seq that jumps within
 * an epoch (an event lost on the way) makes the client rejoin, which replays what it missed. An
 * event of a new epoch means the room's stream restarted (Redis lost it, or the server restarted):
 * its seqs begin at 1 again, so it is taken as new, not as a repeat; and since events around a
 * restart may have been lost or sent twice, the client also takes a fresh snapshot of the room.
 * After a reconnect the client rejoins every room with its position, so missed events are replayed,
 * or a snapshot arrives (`onSnapshot`) when the server can no longer replay them.
 */
export class PantheonClient {
  readonly socket: ClientSocket;
  private readonly positions = new Map<string, Position>();
  private readonly rooms = new Set<string>();
  /** Rooms being rejoined after a jump or a new epoch: one rejoin at a time. */
  private readonly rejoining = new Set<string>();
  private readonly handlers = new Map<string, Set<(data: never) => void>>();
  private readonly snapshotHandlers = new Set<(s: RoomSnapshot) => void>();
  private readonly stateHandlers = new Set<(s: ConnectionState) => void>();
  private readonly timeoutMs: number;
  private readonly sendAttempts: number;
  private closed = false;
  private everConnected = false;
  private currentToken: string | undefined;
  private refreshing: Promise<string> | undefined;
  private tokenRetries = 0;
  /** REST calls and uploads with the same token. */
  readonly rest: PantheonRest;
  state: ConnectionState = 'connecting';

  constructor(
    readonly url: string,
    private readonly opts: PantheonClientOptions,
  ) {
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.sendAttempts = opts.sendAttempts ?? 4;
    this.rest = new PantheonRest({ baseUrl: url.replace(/\/+$/, ''), token: () => this.token(), refresh: () => this.refreshToken() });
    this.socket = io(url, {
      transports: ['websocket'],
      ...opts.socket,
      auth: (cb) => {
        void this.token().then(
          (token) => cb({ token }),
          () => cb({ token: '' }),
        );
      },
    });
    this.socket.onAny((event: string, data: unknown) => this.dispatch(event, data));
    this.socket.on('connect', () => {
      this.tokenRetries = 0;
      this.setState('connected');
      // Rejoin after every reconnection (not the first connect), continuing from the position held.
      if (this.everConnected) this.rejoinAll();
      this.everConnected = true;
    });
    this.socket.io.on('reconnect_attempt', () => this.setState(this.everConnected ? 'reconnecting' : 'connecting'));
    // Socket.IO does not reconnect by itself when the server ended the session (a disconnect
    // packet: a node shutting down, an expired token): reconnect unless this client closed it.
    this.socket.on('disconnect', (reason) => {
      if (this.closed) return;
      this.setState('reconnecting');
      if (reason !== 'io server disconnect') return;
      this.socket.connect();
    });
    // The token expired while connected: the server drops the socket right after; take a new one.
    this.socket.on('auth:expired', () => void this.refreshToken().catch(() => undefined));
    // A handshake refused for its token does not retry by itself: refresh and connect again, a few
    // times in a row at most (a refresher that keeps handing out bad tokens must not spin).
    this.socket.on('connect_error', (err: Error & { data?: { code?: string } }) => {
      const code = err.data?.code;
      if (this.closed || !code) return;
      if (!TOKEN_CODES.has(code) || this.tokenRetries >= 3) {
        if (!this.socket.active) this.setState('closed');
        return;
      }
      this.tokenRetries++;
      void this.refreshToken()
        .catch(() => undefined)
        .then(() => setTimeout(() => !this.closed && !this.socket.connected && this.socket.connect(), 250 * this.tokenRetries));
    });
  }

  /** The token in use (asked of the token function once, then kept until a refresh). */
  async token(): Promise<string> {
    if (this.refreshing) return this.refreshing;
    if (this.currentToken === undefined || typeof this.opts.token === 'function') {
      this.currentToken = typeof this.opts.token === 'function' ? await this.opts.token() : this.opts.token;
    }
    return this.currentToken;
  }

  /** A new token from `refreshToken` (or the token function); calls at once share one refresh. */
  refreshToken(): Promise<string> {
    this.refreshing ??= (async () => {
      try {
        const fn = this.opts.refreshToken ?? (typeof this.opts.token === 'function' ? this.opts.token : undefined);
        if (!fn) throw new PantheonError('TOKEN_EXPIRED', 'The token expired and no refresher was given');
        this.currentToken = await fn();
        return this.currentToken;
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  /** Called with every change of the connection's state; returns the unsubscribe function. */
  onState(handler: (s: ConnectionState) => void): () => void {
    this.stateHandlers.add(handler);
    return () => this.stateHandlers.delete(handler);
  }

  private setState(s: ConnectionState) {
    if (this.state === s || this.state === 'closed') return;
    this.state = s;
    for (const h of this.stateHandlers) h(s);
  }

  /** Resolves once connected (at once if connected). */
  connected(): Promise<void> {
    if (this.socket.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const off = this.onState((s) => {
        if (s === 'connected') resolve();
        else if (s === 'closed') reject(new PantheonError('CLOSED', 'The client is closed'));
        else return;
        off();
      });
    });
  }

  /** A live model of one room (messages, replies as they stream, turns, presence...), fed by this client. */
  model(roomId: string): RoomModel {
    return new RoomModel(this as unknown as RoomEventSource, roomId);
  }

  private dispatch(event: string, data: unknown) {
    const d = data as { roomId?: string; epoch?: string; seq?: number; fromSeq?: number } | undefined;
    if (d && typeof d.roomId === 'string' && typeof d.seq === 'number') {
      let at = this.positions.get(d.roomId);
      if (!at) return; // not joined
      if (d.epoch !== at.epoch) {
        // The stream restarted: seqs are not comparable with the old ones. A snapshot settles what
        // the restart did to the events in flight (a publish whose answer was lost goes out again).
        at = { epoch: String(d.epoch), seq: 0 };
        this.rejoin(d.roomId, 'snapshot');
      }
      if (d.seq <= at.seq) return; // a duplicate
      // A merged delta of a replay stands for fromSeq..seq: it follows on when fromSeq does.
      if ((d.fromSeq ?? d.seq) > at.seq + 1) {
        // A jump: events were lost on the way. The rejoin replays them, this one included.
        this.rejoin(d.roomId, 'replay');
        return;
      }
      this.positions.set(d.roomId, { epoch: at.epoch, seq: d.seq });
    }
    for (const h of this.handlers.get(event) ?? []) (h as (x: unknown) => void)(data);
    // A deleted room is gone for good: never rejoined after a reconnect.
    if (event === 'room:deleted' && d && typeof d.roomId === 'string') {
      this.rooms.delete(d.roomId);
      this.positions.delete(d.roomId);
    }
  }

  /** One rejoin per room at a time: from the position held (a replay), or for a fresh snapshot. */
  private rejoin(roomId: string, want: 'replay' | 'snapshot') {
    if (this.rejoining.has(roomId) || !this.rooms.has(roomId) || !this.socket.connected) return;
    this.rejoining.add(roomId);
    void this.joinFrom(roomId, want === 'replay' ? this.positions.get(roomId) : undefined)
      .catch(() => undefined)
      .finally(() => this.rejoining.delete(roomId));
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
    return this.positions.get(roomId)?.seq;
  }

  /** The epoch of the room's stream that `lastSeqOf` counts in. */
  epochOf(roomId: string): string | undefined {
    return this.positions.get(roomId)?.epoch;
  }

  /** Emits with an ack; `onAck` runs in the ack's own callback, before any later event is dispatched. */
  private request<E extends ClientEventName>(event: E, payload: ClientPayload<E>, onAck?: (a: Ack<ClientResult<E>>) => void): Promise<Ack<ClientResult<E>>> {
    type T = Ack<ClientResult<E>>;
    return new Promise((resolve, reject) => {
      (this.socket.timeout(this.timeoutMs) as unknown as { emit(e: string, p: unknown, cb: (err: Error | null, a: T) => void): void }).emit(
        event,
        payload,
        (err, ack) => {
          if (err) return reject(err);
          onAck?.(ack);
          resolve(ack);
        },
      );
    });
  }

  /** Joins a room; a room joined before continues from the position held (missed events are replayed). */
  join(roomId: string): Promise<Extract<JoinAck, { ok: true }>> {
    return this.joinFrom(roomId, this.positions.get(roomId));
  }

  private async joinFrom(roomId: string, at: Position | undefined): Promise<Extract<JoinAck, { ok: true }>> {
    const ack: JoinAck = await this.request('room:join', { roomId, ...(at ? { lastSeq: at.seq, epoch: at.epoch } : {}) }, (a) => {
      if (!a.ok) return;
      // The events that follow the ack continue from its position (and from the snapshot, drawn first).
      this.rooms.add(roomId);
      // A replay never moves the position back within its epoch (a newer event may have come first).
      const held = this.positions.get(roomId);
      const keep = a.mode === 'replay' && held?.epoch === a.epoch && held.seq > a.seq;
      if (!keep) this.positions.set(roomId, { epoch: a.epoch, seq: a.seq });
      if (a.mode === 'snapshot') for (const h of this.snapshotHandlers) h(a.snapshot);
    });
    if (!ack.ok) throw Object.assign(new Error(ack.error.message), { code: ack.error.code });
    return ack;
  }

  async leave(roomId: string): Promise<void> {
    this.rooms.delete(roomId);
    const ack = await this.request('room:leave', { roomId });
    if (!ack.ok) throw Object.assign(new Error(ack.error.message), { code: ack.error.code });
  }

  /**
   * Sends a message. It gets one `clientMsgId` (given, or made here) for all its attempts: when an
   * ack does not arrive (the connection dropped, a timeout) or the server is briefly busy, the same
   * message is sent again once connected, and the server answers a repeat with the first message
   * and turn (`duplicate: true`) instead of starting another turn.
   */
  async send(p: { roomId: string; sessionId: string; content: string; clientMsgId?: string; fileIds?: string[] }) {
    const clientMsgId = p.clientMsgId ?? newClientMsgId();
    let lastError: unknown;
    for (let attempt = 1; attempt <= this.sendAttempts; attempt++) {
      if (this.closed) throw new PantheonError('CLOSED', 'The client is closed');
      await this.connected();
      let ack: Ack<ClientResult<'message:send'>>;
      try {
        ack = await this.request('message:send', { ...p, clientMsgId });
      } catch (err) {
        lastError = err; // no answer: it may or may not have arrived; the same id makes sending again safe
        continue;
      }
      if (ack.ok) return { messageId: ack.messageId, turnId: ack.turnId, duplicate: ack.duplicate, clientMsgId };
      lastError = new PantheonError(ack.error.code, ack.error.message, undefined, ack.error.details);
      if (!RETRYABLE_SEND.has(ack.error.code)) break;
      const after = (ack.error.details as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds ?? 1;
      await new Promise((r) => setTimeout(r, Math.min(after, 10) * 1000));
    }
    throw lastError instanceof Error ? lastError : new PantheonError('SEND_FAILED', 'The message could not be sent');
  }

  /** Uploads a file to a room with progress; parsing then shows as room events (`file:progress`...). */
  upload(roomId: string, file: UploadSource, opts?: UploadOptions): Promise<{ id: string; status: FileStatus }> {
    return this.rest.upload(roomId, file, opts);
  }

  async cancel(roomId: string, turnId: string): Promise<ClientResult<'turn:cancel'>> {
    const ack = await this.request('turn:cancel', { roomId, turnId });
    if (!ack.ok) throw Object.assign(new Error(ack.error.message), { code: ack.error.code });
    return { status: ack.status, cancelRequested: ack.cancelRequested };
  }

  /** A new version of `agentKey`'s answer in a finished turn; it streams as the turn `turnId` of the result. */
  async regenerate(roomId: string, turnId: string, agentKey: string): Promise<ClientResult<'turn:regenerate'>> {
    const ack = await this.request('turn:regenerate', { roomId, turnId, agentKey });
    if (!ack.ok) throw Object.assign(new Error(ack.error.message), { code: ack.error.code });
    return { turnId: ack.turnId, messageId: ack.messageId };
  }

  /** Edits one's own message; `rerun` answers the new text with a new turn. */
  async editMessage(p: ClientPayload<'message:edit'>): Promise<ClientResult<'message:edit'>> {
    const ack = await this.request('message:edit', p);
    if (!ack.ok) throw Object.assign(new Error(ack.error.message), { code: ack.error.code });
    return { message: ack.message, ...(ack.turnId ? { turnId: ack.turnId } : {}) };
  }

  async deleteMessage(roomId: string, messageId: string): Promise<ClientResult<'message:delete'>> {
    const ack = await this.request('message:delete', { roomId, messageId });
    if (!ack.ok) throw Object.assign(new Error(ack.error.message), { code: ack.error.code });
    return { messageId: ack.messageId, deletedAt: ack.deletedAt };
  }

  typing(roomId: string, sessionId: string, on: boolean): void {
    this.socket.emit('typing', { roomId, sessionId, on });
  }

  private rejoinAll() {
    for (const roomId of this.rooms) void this.join(roomId).catch(() => undefined);
  }

  close(): void {
    this.closed = true;
    this.setState('closed');
    this.socket.disconnect();
  }
}
