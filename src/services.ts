import type { FileService } from './files/service/file-service';
import type { RoomAccess } from './rooms/access';
import type { AgentService } from './rooms/agent-service';
import type { RoomService } from './rooms/room-service';
import type { RoomStreams } from './rooms/room-streams';
import type { SessionService } from './rooms/session-service';
import type { UserService } from './rooms/user-service';
import type { TurnService } from './turns/turn-service';

/** The application services the transports call; built, complete, by the composition root before any transport. */
export interface Services {
  users: UserService;
  rooms: RoomService;
  agents: AgentService;
  sessions: SessionService;
  /** Membership and role checks for transports. */
  access: RoomAccess;
  turns: TurnService;
  files: FileService;
  /** Room events by position (replay, then live) for transports other than sockets. */
  streams: RoomStreams;
}

/** Readiness probes by name (database, redis, queue); each resolves when its part is usable. */
export type HealthChecks = Record<string, () => Promise<unknown>>;
