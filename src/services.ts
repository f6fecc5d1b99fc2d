import type { FileService } from './files/service/file-service';
import type { RoomAccess } from './rooms/access';
import type { AgentService } from './rooms/agent-service';
import type { RoomService } from './rooms/room-service';
import type { SearchService } from './rooms/search-service';
import type { RoomStreams } from './rooms/room-streams';
import type { SessionService } from './rooms/session-service';
import type { UserService } from './rooms/user-service';
import type { ToolCatalog } from './tools/catalog';
import type { ToolApprovals } from './turns/tool-approvals';
import type { MessageActions } from './turns/message-actions';
import type { TurnService } from './turns/turn-service';

/** The application services the transports call; built, complete, by the composition root before any transport. */
export interface Services {
  users: UserService;
  rooms: RoomService;
  agents: AgentService;
  sessions: SessionService;
  /** Full-text search over a room's messages and files. */
  search: SearchService;
  /** Membership and role checks for transports. */
  access: RoomAccess;
  turns: TurnService;
  /** Tool calls waiting for a member's approval: answers, and the pending list. */
  approvals: ToolApprovals;
  /** The tools agents may be granted (built in and MCP), for `GET /tools`. */
  tools: ToolCatalog;
  /** Regenerating answers, editing and deleting messages. */
  messages: MessageActions;
  files: FileService;
  /** Room events by position (replay, then live) for transports other than sockets. */
  streams: RoomStreams;
}

/** Readiness probes by name (database, redis, queue); each resolves when its part is usable. */
export type HealthChecks = Record<string, () => Promise<unknown>>;
