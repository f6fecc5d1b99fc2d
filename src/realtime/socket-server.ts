import type { Server as HttpServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import type { Redis } from 'ioredis';
import { Server } from 'socket.io';
import type { TokenVerifier } from '../auth/jwt';
import type { AppConfig } from '../config/config';
import type { RoomEvent, RoomEventName, RoomEventPayloads } from '../contract/events';
import type { Services } from '../services';
import type { DomainEventMap, DomainEvents } from '../shared/domain-events';
import { toErrorBody } from '../shared/errors';
import type { Logger } from '../shared/logger';
import { noMetrics, type Metrics } from '../shared/metrics';
import type { RoomEvents } from '../events/room-events';
import type { RateLimiter } from '../infra/rate-limiter';
import { roomChannel, userChannel } from './channels';
import type { AppServer, AppSocket, RealtimeContext } from './context';
import { eventListener, payloadSchemas, type BindOptions, type EventHandlers } from './handler-kit';
import { InboundGuard } from './inbound-guard';
import { roomHandlers } from './handlers/room-handlers';
import { turnHandlers } from './handlers/turn-handlers';
import { RoomDelivery } from './room-delivery';
import { applyRole, leaveDeletedRoom } from './socket-roles';
import { JoinCache, type KeptSnapshotParts } from './join-cache';
import { PresenceAnnouncer } from './presence-announcer';

export type { AppServer, RealtimeContext } from './context';

export interface RealtimeDeps {
  httpServer: HttpServer;
  config: AppConfig;
  verifier: TokenVerifier;
  services: Services;
  events: DomainEvents;
  roomEvents: RoomEvents;
  rateLimiter: RateLimiter;
  logger: Logger;
  /** Sockets, rooms and frames sent, for operators. */
  metrics?: Metrics;
  /** Scaled mode: connections for the Socket.IO Redis adapter (user channels, sockets leaving a room on every node). */
  adapterRedis?: { pub: Redis; sub: Redis };
}

export interface Realtime {
  io: AppServer;
  /** The client events the handler table answers (compared with the contract and docs/asyncapi.json). */
  handledEvents: string[];
  close(): Promise<void>;
}

const MAX_TIMER_MS = 2 ** 31 - 1;
/** How long a closing node waits for the room events already published to reach its sockets. */
const FLUSH_BEFORE_CLOSE_MS = 2000;

/**
 * Socket.IO on the app's HTTP server: handshake auth with the REST rules, typed events, room
 * channels with sequenced, replayable room events, presence and typing across nodes.
 */
export async function createRealtime(d: RealtimeDeps): Promise<Realtime> {
  const { config, logger } = d;
  const io: AppServer = new Server(d.httpServer, {
    path: '/socket.io',
    serveClient: false,
    // Above the per-event cap, so an oversize event gets an error ack rather than a dropped socket.
    maxHttpBufferSize: Math.max(2 * 1024 * 1024, config.limits.socketPayloadBytes * 4),
    cors: { origin: config.corsOrigins === '*' ? '*' : config.corsOrigins, methods: ['GET', 'POST'] },
  });
  const metrics = d.metrics ?? noMetrics;
  const nsp = () => io.of('/');
  const delivery = new RoomDelivery(nsp, d.roomEvents, undefined, (n) => metrics.framesSent(n));
  if (d.adapterRedis) {
    io.adapter(createAdapter(d.adapterRedis.pub, d.adapterRedis.sub, { key: `${config.redisKeyPrefix}socket.io` }));
  }
  const { broadcaster, replayLog } = d.roomEvents;
  // A role change applies to this node's sockets of the member before the event reaches anyone.
  const joinCache = new JoinCache<KeptSnapshotParts>();
  const announcer = new PresenceAnnouncer(broadcaster, d.roomEvents.presence, config.limits.presenceBatchMs, logger);
  const deliver: typeof delivery.deliver = (roomId, event, data) => {
    // What joins keep of the room is dropped by the events that change it, before anyone hears of them.
    joinCache.observe(roomId, event, data);
    if (event === 'member:updated') {
      const { userId, role } = data as RoomEvent<'member:updated'>;
      applyRole(io, delivery, roomId, userId, role);
    }
    delivery.deliver(roomId, event, data);
    // The room's last event: this node's sockets leave it (no presence is announced for a room that is gone).
    if (event === 'room:deleted') {
      leaveDeletedRoom(io, roomId);
      announcer.forget(roomId);
    }
  };
  d.roomEvents.attach({ deliver, activeRooms: () => [...localRooms(nsp()), ...delivery.heldRooms()] });

  const ctx: RealtimeContext = {
    io,
    config,
    services: d.services,
    broadcaster,
    replayLog,
    presence: d.roomEvents.presence,
    delivery,
    joinCache,
    announcer,
    rateLimiter: d.rateLimiter,
    logger,
  };

  // Built once per server: the table of handlers (one per client event of the contract) and the
  // payload schemas with this server's limits. Events outside the table are answered UNKNOWN_EVENT.
  const rooms = roomHandlers(ctx);
  const handlers: EventHandlers = {
    'room:join': rooms['room:join'],
    'room:leave': rooms['room:leave'],
    typing: rooms.typing,
    ...turnHandlers(ctx),
  };
  const schemas = payloadSchemas(config.limits);
  const guard = new InboundGuard(config.limits);
  const handlerOpts: BindOptions = { maxBytes: config.limits.socketPayloadBytes, logger, guard };

  io.use((socket, next) => {
    const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
    let claims;
    try {
      claims = d.verifier.verify(token);
    } catch (err) {
      const { body } = toErrorBody(err);
      const e = new Error(body.message) as Error & { data?: unknown };
      e.data = { code: body.code };
      next(e);
      return;
    }
    // The cap on sockets per user is checked before any database work (by the token's subject).
    try {
      guard.connect(claims.sub);
    } catch (err) {
      const { body } = toErrorBody(err);
      const e = new Error(body.message) as Error & { data?: unknown };
      e.data = { code: body.code, ...(body.details ? { details: body.details } : {}) };
      next(e);
      return;
    }
    d.services.users
      .upsertFromClaims(claims)
      .then((user) => {
        socket.data = {
          userId: user.id,
          sub: user.sub,
          displayName: user.displayName,
          kind: user.kind,
          tokenExp: claims.exp,
          rooms: new Set(),
          roles: new Map(),
        };
        next();
      })
      .catch((err) => {
        guard.disconnect(claims.sub);
        logger.error('socket auth failed', { err });
        const e = new Error('Internal server error') as Error & { data?: unknown };
        e.data = { code: 'INTERNAL' };
        next(e);
      });
  });

  metrics.gauge('rooms', () => new Set([...localRooms(nsp()), ...delivery.heldRooms()]).size);
  // Shared by every socket, called with the socket as `this`: a connected socket keeps no closure
  // of its own for its events, its disconnect or its token's expiry.
  const onEvent = eventListener(handlers, schemas, handlerOpts);
  function onDisconnect(this: AppSocket, reason: string) {
    clearTimeout(expiries.get(this));
    expiries.delete(this);
    metrics.sockets(-1);
    logger.info('socket disconnected', { socketId: this.id, userId: this.data.userId, reason, durationMs: Date.now() - this.handshake.issued });
    guard.disconnect(this.data.sub);
    rooms.onDisconnect(this);
  }
  // Drop the socket when its token expires; the client reconnects with a fresh token.
  const expire = (socket: AppSocket) => {
    socket.emit('auth:expired', { reason: 'token expired' });
    socket.disconnect(true);
  };
  const expiries = new WeakMap<AppSocket, NodeJS.Timeout>();
  io.on('connection', (socket) => {
    socket.join(userChannel(socket.data.userId));
    metrics.sockets(1);
    logger.info('socket connected', { socketId: socket.id, userId: socket.data.userId, transport: socket.conn.transport.name });
    const msLeft = socket.data.tokenExp * 1000 - Date.now();
    expiries.set(socket, setTimeout(expire, Math.max(0, Math.min(msLeft, MAX_TIMER_MS)), socket));
    socket.on('disconnect', onDisconnect);
    socket.onAny(onEvent);
  });

  /** A room event about a change made over REST; a failed publish is logged (the change stands). */
  const publish = <E extends RoomEventName>(roomId: string, event: E, payload: RoomEventPayloads[E]) =>
    void broadcaster.publish(roomId, event, payload).catch((err) => logger.warn(`${event} publish failed`, { roomId, err }));
  // A member removed over REST leaves the room's channel at once, on every node.
  const onRemoved = ({ roomId, userId }: { roomId: string; userId: string }) => {
    io.in(userChannel(userId)).socketsLeave(roomChannel(roomId));
    io.to(userChannel(userId)).emit('room:removed', { roomId, reason: 'membership revoked' });
    publish(roomId, 'member:removed', { userId });
  };
  d.events.on('member:removed', onRemoved);
  const onAdded = ({ roomId, member }: DomainEventMap['member:added'][0]) => publish(roomId, 'member:added', { member });
  // Every node applies the new role to its sockets when the event reaches it (`deliver` above).
  const onUpdated = ({ roomId, userId, role }: DomainEventMap['member:updated'][0]) => publish(roomId, 'member:updated', { userId, role });
  d.events.on('member:added', onAdded);
  d.events.on('member:updated', onUpdated);
  const onSessionCreated = ({ roomId, session }: DomainEventMap['session:created'][0]) => publish(roomId, 'session:created', { session });
  const onSessionUpdated = ({ roomId, session }: DomainEventMap['session:updated'][0]) => publish(roomId, 'session:updated', { session });
  const onSessionDeleted = ({ roomId, sessionId }: DomainEventMap['session:deleted'][0]) => publish(roomId, 'session:deleted', { sessionId });
  const onFileDeleted = ({ roomId, fileId }: DomainEventMap['file:deleted'][0]) => publish(roomId, 'file:deleted', { fileId });
  // `room:deleted` reaches every node as the room's last event; then its stream is dropped.
  const onRoomDeleted = ({ roomId }: DomainEventMap['room:deleted'][0]) =>
    void broadcaster
      .publish(roomId, 'room:deleted', {})
      .catch((err) => logger.warn('room:deleted publish failed', { roomId, err }))
      .then(() => d.roomEvents.forget(roomId))
      .catch((err) => logger.warn('dropping a deleted room stream failed', { roomId, err }));
  d.events.on('session:created', onSessionCreated);
  d.events.on('session:updated', onSessionUpdated);
  d.events.on('session:deleted', onSessionDeleted);
  d.events.on('file:deleted', onFileDeleted);
  d.events.on('room:deleted', onRoomDeleted);
  // Changes made over REST reach everyone in the room as `room:updated`.
  const announce = (roomId: string, what: () => Promise<RoomEventPayloads['room:updated']>) =>
    void what()
      .then((payload) => broadcaster.publish(roomId, 'room:updated', payload))
      .catch((err) => logger.warn('room:updated publish failed', { roomId, err }));
  const onAgents = ({ roomId }: { roomId: string }) =>
    announce(roomId, async () => ({ agents: await d.services.rooms.agentsOf(roomId) }));
  const onRoom = ({ roomId }: { roomId: string }) =>
    announce(roomId, () => d.services.rooms.infoOf(roomId));
  d.events.on('agents:changed', onAgents);
  d.events.on('room:updated', onRoom);

  return {
    io,
    handledEvents: Object.keys(handlers),
    async close() {
      d.events.off('member:removed', onRemoved);
      d.events.off('member:added', onAdded);
      d.events.off('member:updated', onUpdated);
      d.events.off('session:created', onSessionCreated);
      d.events.off('session:updated', onSessionUpdated);
      d.events.off('session:deleted', onSessionDeleted);
      d.events.off('file:deleted', onFileDeleted);
      d.events.off('room:deleted', onRoomDeleted);
      d.events.off('agents:changed', onAgents);
      d.events.off('room:updated', onRoom);
      announcer.close();
      // The last events of this node's turns first reach its sockets (they came through Redis).
      await d.roomEvents.flush(FLUSH_BEFORE_CLOSE_MS).catch((err: unknown) => logger.warn('room event flush failed', { err }));
      // Close this node's connections only (not io.disconnectSockets, which the Redis adapter
      // would apply to every node), and as a dropped transport rather than a disconnect packet:
      // clients then reconnect by themselves, to a node that is up, and rejoin with their lastSeq.
      // Not io.close(): it would also close the HTTP server, which the app closes itself.
      io.engine.close();
    },
  };
}

/** Rooms with at least one socket on this node. */
function* localRooms(nsp: { adapter: { rooms: Map<string, Set<string>> } }): Iterable<string> {
  for (const name of nsp.adapter.rooms.keys()) if (name.startsWith('room:')) yield name.slice('room:'.length);
}
