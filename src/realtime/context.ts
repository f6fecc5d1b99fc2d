import type { Server } from 'socket.io';
import type { AppConfig } from '../config/config';
import type { ClientToServerEvents, InFlightTurn, ServerToClientEvents, SocketData } from '../contract/events';
import type { Services } from '../services';
import type { Logger } from '../shared/logger';
import type { Broadcaster } from './broadcaster';
import type { AppSocket } from './handler-kit';
import type { RateLimiter } from './rate-limiter';
import type { ReplayLog } from './replay-log';
import type { RoomDelivery } from './room-delivery';

export type AppServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

/** What every socket handler module gets. */
export interface RealtimeContext {
  io: AppServer;
  config: AppConfig;
  services: Services;
  broadcaster: Broadcaster;
  replayLog: ReplayLog;
  delivery: RoomDelivery;
  rateLimiter: RateLimiter;
  logger: Logger;
  /** Turns running or queued in a room, with their partial text (filled in by the turn engine). */
  inFlightTurns: (roomId: string) => Promise<InFlightTurn[]>;
  /** True when the user is (still) a member; checked on every room event. */
  requireMember: (roomId: string, userId: string) => Promise<void>;
}

export type HandlerModule = (socket: AppSocket, ctx: RealtimeContext) => void;

