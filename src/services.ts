import type { AgentService } from './rooms/agent-service';
import type { RoomService } from './rooms/room-service';
import type { SessionService } from './rooms/session-service';
import type { UserService } from './rooms/user-service';
import type { TurnService } from './turns/turn-service';

/** The application services the transports call; built once by the composition root. */
export interface Services {
  users: UserService;
  rooms: RoomService;
  agents: AgentService;
  sessions: SessionService;
  /** Set once the turn engine is built (it needs the realtime layer, which needs the HTTP server). */
  turns?: TurnService;
}

/** Readiness probes by name (database, redis, queue); each resolves when its part is usable. */
export type HealthChecks = Record<string, () => Promise<unknown>>;
