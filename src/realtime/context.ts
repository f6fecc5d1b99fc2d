import type { Server, Socket } from 'socket.io';
import type { AppConfig } from '../config/config';
import type { ClientToServerEvents, ServerToClientEvents, SocketData } from '../contract/events';
import type { Services } from '../services';
import type { Logger } from '../shared/logger';
import type { Broadcaster } from '../events/broadcaster';
import type { PresenceCounter } from '../events/presence';
import type { ReplayLog } from '../events/replay-log';
import type { RateLimiter } from '../infra/rate-limiter';
import type { JoinCache, KeptSnapshotParts } from './join-cache';
import type { PresenceAnnouncer } from './presence-announcer';
import type { RoomDelivery } from './room-delivery';

export type AppSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
export type AppServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

/** What every socket handler module gets. */
export interface RealtimeContext {
  io: AppServer;
  config: AppConfig;
  services: Services;
  broadcaster: Broadcaster;
  replayLog: ReplayLog;
  presence: PresenceCounter;
  delivery: RoomDelivery;
  /** Roles and snapshot parts kept between joins, dropped by the room events that change them. */
  joinCache: JoinCache<KeptSnapshotParts>;
  /** Publishes presence changes, several in a short window as one `presence:batch`. */
  announcer: PresenceAnnouncer;
  rateLimiter: RateLimiter;
  logger: Logger;
}

