import type { Redis } from 'ioredis';
import type { LoggedRoomEvent, RoomEvent } from '../contract/events';
import type { Deliver } from './broadcaster';
import { roomEventsChannel, toLogged, type WireMessage } from './redis-broadcaster';
import type { ReplayLog } from './replay-log';
import type { StreamPosition } from './stream-position';

/** Rooms tracked before the relay forgets those without local sockets. */
const PRUNE_AT = 10_000;

/**
 * Receives the room-events channel and hands each event to local delivery, gap-free per room:
 * an event whose seq jumps past the last one delivered here (a message lost while the subscriber
 * reconnected) first pulls the missing ones from the room's stream; after a reconnection every
 * room with local sockets catches up the same way. Duplicates are dropped. An event of another
 * epoch means the stream restarted (Redis lost the room's keys): the relay follows the new epoch
 * from its first event, whatever seqs it delivered before. What it has delivered per room is what
 * a joining socket's replay or snapshot stands on (`delivered`).
 */
export class RoomEventRelay {
  private readonly lastDelivered = new Map<string, StreamPosition>();
  private readonly catchingUp = new Map<string, Promise<void>>();
  private readonly flushWaiters = new Map<string, () => void>();
  private flushes = 0;
  private readonly channel: string;

  constructor(
    private readonly sub: Redis,
    keyPrefix: string,
    private readonly log: ReplayLog,
    private readonly deliver: Deliver,
    /** Rooms that have sockets on this node (joined or joining). */
    private readonly localRooms: () => Iterable<string>,
    private readonly onError: (err: unknown) => void,
  ) {
    this.channel = roomEventsChannel(keyPrefix);
  }

  async start(): Promise<void> {
    this.sub.on('message', this.onMessage);
    this.sub.on('ready', this.onReady);
    await this.sub.subscribe(this.channel);
  }

  async stop(): Promise<void> {
    this.sub.off('message', this.onMessage);
    this.sub.off('ready', this.onReady);
    await this.sub.unsubscribe(this.channel).catch(() => undefined);
  }

  /** The position of the room's last event delivered here; undefined for a room not followed yet. */
  delivered(roomId: string): StreamPosition | undefined {
    return this.lastDelivered.get(roomId);
  }

  /**
   * Starts following a room from its stream's head. It runs in the room's queue, so none of the
   * room's events is delivered between the call and the start: everything after the head is.
   */
  follow(roomId: string): Promise<void> {
    return this.chain(roomId, async () => {
      if (!this.lastDelivered.has(roomId)) this.lastDelivered.set(roomId, await this.log.head(roomId));
    });
  }

  /**
   * Resolves once every room event published before the call has been handed to this node's
   * sink: a marker goes through the same channel (Redis delivers a channel's messages in order),
   * then the catch-up work queued before it finishes. Used before a node closes its sockets, so
   * the last events of its turns reach them. Gives up after `timeoutMs`.
   */
  async flush(pub: Redis, timeoutMs: number): Promise<void> {
    const id = `${process.pid}-${++this.flushes}-${Date.now()}`;
    const seen = new Promise<void>((resolve) => this.flushWaiters.set(id, resolve));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    try {
      await pub.publish(this.channel, JSON.stringify({ flush: id }));
      await Promise.race([seen.then(() => Promise.all([...this.catchingUp.values()])), timeout]);
    } finally {
      clearTimeout(timer);
      this.flushWaiters.delete(id);
    }
  }

  private onMessage = (ch: string, raw: string) => {
    if (ch !== this.channel) return;
    let m: WireMessage;
    try {
      m = JSON.parse(raw) as WireMessage;
    } catch {
      return;
    }
    const flush = (m as unknown as { flush?: string }).flush;
    if (flush !== undefined) {
      // A node's flush marker: only the node that sent it waits for it.
      this.flushWaiters.get(flush)?.();
      return;
    }
    if (this.catchingUp.has(m.roomId)) {
      void this.chain(m.roomId, () => this.accept(m));
      return;
    }
    // Work that needs the log keeps the room's later events waiting behind it.
    const reading = this.accept(m);
    if (reading) void this.chain(m.roomId, () => reading);
  };

  /** After a reconnection: once the SUBSCRIBE has been processed (PING answers after it), catch up. */
  private onReady = () => {
    void this.sub
      .ping()
      .then(() => {
        for (const roomId of this.localRooms()) void this.chain(roomId, () => this.catchUp(roomId));
      })
      .catch(this.onError);
  };

  private accept(m: WireMessage): Promise<void> | void {
    const at = this.lastDelivered.get(m.roomId);
    // A room not followed until now is followed from this event on.
    if (!at) return this.emit(m.roomId, toLogged(m));
    if (m.epoch === at.epoch) {
      if (m.seq <= at.seq) return;
      if (m.seq === at.seq + 1) return this.emit(m.roomId, toLogged(m));
    }
    // A jump, or a new epoch: the log fills in.
    return this.catchUp(m.roomId, m);
  }

  /**
   * Delivers what the stream holds after the last event delivered here; a stream that restarted is
   * followed from its first event. `m`, the event that showed the need, goes out even when the log
   * cannot fill in: clients then see the jump and rejoin, and the room does not stall here.
   */
  private async catchUp(roomId: string, m?: WireMessage): Promise<void> {
    const at = this.lastDelivered.get(roomId);
    if (!at) return;
    let r = await this.log.since(roomId, at.seq, at.epoch);
    if (r.gap && r.epoch !== at.epoch) {
      this.lastDelivered.set(roomId, { epoch: r.epoch, seq: 0 });
      r = await this.log.since(roomId, 0, r.epoch);
    }
    if (!r.gap) for (const e of r.events) this.emit(roomId, e);
    else if (m) this.emit(roomId, toLogged(m));
  }

  private emit(roomId: string, e: LoggedRoomEvent) {
    const at = this.lastDelivered.get(roomId);
    if (at && at.epoch === e.data.epoch && e.data.seq <= at.seq) return;
    if (!at && this.lastDelivered.size >= PRUNE_AT) this.prune();
    this.lastDelivered.set(roomId, { epoch: e.data.epoch, seq: e.data.seq });
    this.deliver(roomId, e.event, e.data as RoomEvent);
  }

  /** Forgets rooms without sockets here: every node hears every room, but only tracks its own. */
  private prune() {
    const local = new Set(this.localRooms());
    for (const roomId of this.lastDelivered.keys()) {
      if (!local.has(roomId) && !this.catchingUp.has(roomId)) this.lastDelivered.delete(roomId);
    }
  }

  /**
   * Runs `fn` after the room's earlier catch-up work, keeping the room's delivery in order. A
   * failure is reported and does not stop the queue; the returned promise carries it to a caller.
   */
  private chain(roomId: string, fn: () => Promise<void> | void): Promise<void> {
    const prev = this.catchingUp.get(roomId) ?? Promise.resolve();
    const run = prev.then(fn);
    const next = run.catch(this.onError);
    this.catchingUp.set(roomId, next);
    void next.then(() => {
      if (this.catchingUp.get(roomId) === next) this.catchingUp.delete(roomId);
    });
    return run;
  }
}
