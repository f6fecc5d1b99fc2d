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
    // Rejoin after every reconnection (not the first connect), continuing from the position held.
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
    const d = data as { roomId?: string; epoch?: string; seq?: number } | undefined;
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
      if (d.seq > at.seq + 1) {
        // A jump: events were lost on the way. The rejoin replays them, this one included.
        this.rejoin(d.roomId, 'replay');
        return;
      }
      this.positions.set(d.roomId, { epoch: at.epoch, seq: d.seq });
    }
    for (const h of this.handlers.get(event) ?? []) (h as (x: unknown) => void)(data);
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
      this.positions.set(roomId, { epoch: a.epoch, seq: a.seq });
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
    this.socket.disconnect();
  }
}
