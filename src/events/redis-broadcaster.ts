import type { Redis } from 'ioredis';
import type { LoggedRoomEvent, RoomEvent, RoomEventName, RoomEventPayloads } from '../contract/events';
import type { Broadcaster, Deliver } from './broadcaster';
import type { ReplayLog, ReplayResult } from './replay-log';

/**
 * One atomic step per room event: take the next seq, append to the room's stream (bounded, with a
 * TTL), and publish on the one room-events channel. Because the three happen in one script and all
 * nodes read one channel, every node sees a room's events in seq order, whichever node sent them.
 */
const PUBLISH_SCRIPT = `
local seq = redis.call('INCR', KEYS[1])
local msg = '{"roomId":' .. cjson.encode(ARGV[1]) .. ',"event":' .. cjson.encode(ARGV[2]) .. ',"seq":' .. seq .. ',"ts":' .. ARGV[3] .. ',"payload":' .. ARGV[4] .. '}'
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], seq .. '-0', 'm', msg)
redis.call('EXPIRE', KEYS[2], ARGV[6])
redis.call('PUBLISH', ARGV[7], msg)
return seq
`;

interface WireMessage {
  roomId: string;
  event: RoomEventName;
  seq: number;
  ts: number;
  payload: Record<string, unknown>;
}

export interface RedisBroadcasterOptions {
  keyPrefix: string;
  maxEvents: number;
  ttlSeconds: number;
}

const toLogged = (m: WireMessage): LoggedRoomEvent =>
  ({ event: m.event, data: { ...m.payload, roomId: m.roomId, seq: m.seq, ts: m.ts } }) as LoggedRoomEvent;

export const roomEventsChannel = (keyPrefix: string) => `${keyPrefix}room-events`;

/** Scaled mode. Publish-only: usable from a worker process that has no sockets. */
export class RedisBroadcaster implements Broadcaster, ReplayLog {
  constructor(
    private readonly redis: Redis,
    private readonly opts: RedisBroadcasterOptions,
  ) {
    redis.defineCommand('pantheonPublish', { numberOfKeys: 2, lua: PUBLISH_SCRIPT });
  }

  // Keys of one room share a hash tag so the script also runs on Redis Cluster.
  private seqKey = (roomId: string) => `${this.opts.keyPrefix}room:{${roomId}}:seq`;
  private logKey = (roomId: string) => `${this.opts.keyPrefix}room:{${roomId}}:log`;

  async publish<E extends RoomEventName>(roomId: string, event: E, payload: RoomEventPayloads[E]): Promise<RoomEvent<E>> {
    const ts = Date.now();
    const seq = Number(
      await (this.redis as unknown as { pantheonPublish(...args: (string | number)[]): Promise<number> }).pantheonPublish(
        this.seqKey(roomId),
        this.logKey(roomId),
        roomId,
        event,
        ts,
        JSON.stringify(payload),
        this.opts.maxEvents,
        this.opts.ttlSeconds,
        roomEventsChannel(this.opts.keyPrefix),
      ),
    );
    return { ...payload, roomId, seq, ts } as RoomEvent<E>;
  }

  async currentSeq(roomId: string): Promise<number> {
    return Number((await this.redis.get(this.seqKey(roomId))) ?? 0);
  }

  async since(roomId: string, lastSeq: number): Promise<ReplayResult> {
    const seq = await this.currentSeq(roomId);
    if (lastSeq > seq) return { gap: true, seq };
    if (lastSeq === seq) return { gap: false, events: [], seq };
    if (seq - lastSeq > this.opts.maxEvents) return { gap: true, seq };
    const entries = await this.redis.xrange(this.logKey(roomId), `${lastSeq + 1}-0`, '+');
    const events = entries.map(([, fields]) => toLogged(JSON.parse(fields[1]!) as WireMessage));
    if (events.length === 0 || events[0]!.data.seq !== lastSeq + 1) return { gap: true, seq };
    return { gap: false, events, seq: Math.max(seq, events.at(-1)!.data.seq) };
  }

  async close() {}
}

export function createRedisBroadcaster(redis: Redis, opts: RedisBroadcasterOptions): RedisBroadcaster {
  return new RedisBroadcaster(redis, opts);
}

/** Rooms tracked before the relay forgets those without local sockets. */
const PRUNE_AT = 10_000;

/**
 * Receives the room-events channel and hands each event to local delivery, gap-free per room:
 * an event whose seq jumps past the last one delivered here (a message lost while the subscriber
 * reconnected) first pulls the missing ones from the room's stream; after a reconnection every
 * room with local sockets catches up the same way. Duplicates are dropped. What it has delivered
 * per room is what a joining socket's replay or snapshot stands on (`delivered`).
 */
export class RoomEventRelay {
  private readonly lastDelivered = new Map<string, number>();
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

  /** The seq of the room's last event delivered here; undefined for a room not followed yet. */
  delivered(roomId: string): number | undefined {
    return this.lastDelivered.get(roomId);
  }

  /**
   * Starts following a room from its stream's head. It runs in the room's queue, so none of the
   * room's events is delivered between the call and the start: everything after the head is.
   */
  follow(roomId: string): Promise<void> {
    return this.chain(roomId, async () => {
      if (!this.lastDelivered.has(roomId)) this.lastDelivered.set(roomId, await this.log.currentSeq(roomId));
    });
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
    const pending = this.catchingUp.get(m.roomId);
    if (pending) {
      void this.chain(m.roomId, () => this.accept(m));
      return;
    }
    const last = this.lastDelivered.get(m.roomId);
    if (last === undefined || m.seq === last + 1) this.emit(m.roomId, toLogged(m));
    else if (m.seq > last + 1) void this.chain(m.roomId, () => this.catchUp(m.roomId, m.seq));
  };

  /** After a reconnection: once the SUBSCRIBE has been processed (PING answers after it), catch up. */
  private onReady = () => {
    void this.sub
      .ping()
      .then(() => {
        for (const roomId of this.localRooms()) void this.chain(roomId, () => this.catchUp(roomId, Number.POSITIVE_INFINITY));
      })
      .catch(this.onError);
  };

  private accept(m: WireMessage): Promise<void> | void {
    const last = this.lastDelivered.get(m.roomId);
    // A room not followed until now is followed from this event on.
    if (last === undefined) return this.emit(m.roomId, toLogged(m));
    if (m.seq <= last) return;
    if (m.seq === last + 1) return this.emit(m.roomId, toLogged(m));
    return this.catchUp(m.roomId, m.seq);
  }

  /** Delivers what the stream holds after the last delivered seq, up to `upTo`. */
  private async catchUp(roomId: string, upTo: number): Promise<void> {
    const last = this.lastDelivered.get(roomId);
    if (last === undefined) return;
    const r = await this.log.since(roomId, last);
    // A gap too old for the log: clients detect it from the seq jump and rejoin with lastSeq.
    if (r.gap) return;
    for (const e of r.events) if (e.data.seq <= upTo) this.emit(roomId, e);
  }

  private emit(roomId: string, e: LoggedRoomEvent) {
    const last = this.lastDelivered.get(roomId) ?? 0;
    if (e.data.seq <= last && this.lastDelivered.has(roomId)) return;
    if (this.lastDelivered.size >= PRUNE_AT && !this.lastDelivered.has(roomId)) this.prune();
    this.lastDelivered.set(roomId, e.data.seq);
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
