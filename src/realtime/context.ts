import type { Server, Socket } from 'socket.io';
import type { AppConfig } from '../config/config';
import type { ClientToServerEvents, ServerToClientEvents, SocketData } from '../contract/events';
import type { Services } from '../services';
import type { Logger } from '../shared/logger';
import type { Broadcaster } from '../events/broadcaster';
import type { PresenceCounter } from '../events/presence';
import type { ReplayLog } from '../events/replay-log';
import type { RateLimiter } from '../infra/rate-limiter';
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
  rateLimiter: RateLimiter;
  logger: Logger;
}

