import type { Redis } from 'ioredis';
import type { AppConfig } from '../config/config';
import type { RoomEvent, RoomEventName } from '../contract/events';
import type { Logger } from '../shared/logger';
import type { Broadcaster } from './broadcaster';
import { MemoryBroadcaster } from './memory-broadcaster';
import { LocalNodeBus, RedisNodeBus, type NodeBus } from './node-bus';
import { RedisBroadcaster } from './redis-broadcaster';
import { MemoryPresence, RedisPresence, type PresenceCounter } from './presence';
import type { ReplayLog } from './replay-log';
import { RoomEventRelay } from './room-event-relay';
import type { StreamPosition } from './stream-position';

/** Presence counts of a room outlive a node that died holding sockets for at most this long. */
const PRESENCE_TTL_SECONDS = 24 * 3600;

/**
 * Where a node's room events end up: its transport delivers each one to the sockets it holds.
 * `activeRooms` are the rooms with listeners here, joined or joining (a relay catches them up
 * after an outage).
 */
export interface RoomEventSink {
  deliver(roomId: string, event: RoomEventName, data: RoomEvent): void;
  activeRooms(): Iterable<string>;
}

/**
 * The room event pipeline, built before any service: sequenced publishing, the replay log, the
 * relay of every node's events to this node's sink, and the bus for signals between nodes.
 * Memory (embedded, one node) or Redis (scaled); neither knows about Socket.IO.
 */
export interface RoomEvents {
  broadcaster: Broadcaster;
  replayLog: ReplayLog;
  bus: NodeBus;
  /** Sockets per user per room, across nodes: presence is announced for the first and the last. */
  presence: PresenceCounter;
  /** Connects this node's transport; events published before it have no local listener. */
  attach(sink: RoomEventSink): void;
  /**
   * Another listener of one room's events on this node (an HTTP event stream), beside the
   * attached sink; the room counts as active while it listens. Returns the unsubscribe.
   */
  subscribe(roomId: string, listener: RoomEventListener): () => void;
  /**
   * Resolves once every event published so far (by any node) has reached this node's sink, or
   * after `timeoutMs`: a node shutting down calls it before it closes its sockets.
   */
  flush(timeoutMs: number): Promise<void>;
  /**
   * The position of the room's last event handed to the sink; undefined for a room this node does
   * not follow yet. The replay log may already hold later events that are still on their way here.
   */
  delivered(roomId: string): StreamPosition | undefined;
  /** Follows a room from its log's head on; none of its events reaches the sink meanwhile. */
  follow(roomId: string): Promise<void>;
  /** Drops what the pipeline keeps of a deleted room: its head, replay log and presence counts. */
  forget(roomId: string): Promise<void>;
  close(): Promise<void>;
}

export type RoomEventListener = (event: RoomEventName, data: RoomEvent) => void;

/** Forwards to the sink once one is attached, and to the listeners subscribed per room. */
class SinkSlot implements RoomEventSink {
  private sink: RoomEventSink | null = null;
  private readonly listeners = new Map<string, Set<RoomEventListener>>();
  set(sink: RoomEventSink) {
    this.sink = sink;
  }
  subscribe = (roomId: string, listener: RoomEventListener): (() => void) => {
    let set = this.listeners.get(roomId);
    if (!set) this.listeners.set(roomId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (!set.size && this.listeners.get(roomId) === set) this.listeners.delete(roomId);
    };
  };
  deliver = (roomId: string, event: RoomEventName, data: RoomEvent) => {
    this.sink?.deliver(roomId, event, data);
    const set = this.listeners.get(roomId);
    // A listener that throws (a closed HTTP stream) does not keep the event from the others.
    if (set) for (const l of [...set]) try { l(event, data); } catch { /* its own problem */ }
  };
  activeRooms = (): Iterable<string> => {
    const rooms = this.sink?.activeRooms() ?? [];
    if (!this.listeners.size) return rooms;
    return new Set([...rooms, ...this.listeners.keys()]);
  };
}

export async function createRoomEvents(d: {
  config: AppConfig;
  logger: Logger;
  redis?: { pub: Redis; sub: Redis };
}): Promise<RoomEvents> {
  const { config, logger } = d;
  const log = { maxEvents: config.limits.replayLogMaxEvents, ttlSeconds: config.limits.replayLogTtlSeconds };
  const slot = new SinkSlot();
  if (!d.redis) {
    const mb = new MemoryBroadcaster(slot.deliver, log);
    const presence = new MemoryPresence();
    return {
      broadcaster: mb,
      replayLog: mb,
      bus: new LocalNodeBus(),
      presence,
      attach: (sink) => slot.set(sink),
      subscribe: slot.subscribe,
      // Memory delivery is synchronous: published means delivered.
      flush: async () => {},
      // Delivery is synchronous: what the log holds has been handed over.
      delivered: (roomId) => mb.position(roomId),
      follow: async () => undefined,
      forget: async (roomId) => {
        mb.forget(roomId);
        await presence.forget(roomId);
      },
      close: () => mb.close(),
    };
  }
  const { pub } = d.redis;
  const rb = new RedisBroadcaster(d.redis.pub, { keyPrefix: config.redisKeyPrefix, ...log });
  const relay = new RoomEventRelay(d.redis.sub, config.redisKeyPrefix, rb, slot.deliver, slot.activeRooms, (err) =>
    logger.warn('room event relay', { err }),
  );
  await relay.start();
  const bus = new RedisNodeBus(d.redis.pub, d.redis.sub, config.redisKeyPrefix, (err) => logger.warn('node bus', { err }));
  await bus.start();
  const presence = new RedisPresence(pub, config.redisKeyPrefix, PRESENCE_TTL_SECONDS);
  return {
    broadcaster: rb,
    replayLog: rb,
    bus,
    presence,
    attach: (sink) => slot.set(sink),
    subscribe: slot.subscribe,
    flush: (timeoutMs) => relay.flush(pub, timeoutMs),
    delivered: (roomId) => relay.delivered(roomId),
    follow: (roomId) => relay.follow(roomId),
    forget: async (roomId) => {
      await Promise.all([rb.forget(roomId), presence.forget(roomId)]);
    },
    async close() {
      await bus.close();
      await relay.stop();
      await rb.close();
    },
  };
}
