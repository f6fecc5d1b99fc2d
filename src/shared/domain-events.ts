import { EventEmitter } from 'node:events';
import type { MemberDto, MemberRole, SessionDto } from '../contract/dto';

/**
 * In-process notifications from services to transports (e.g. a member removed over REST must
 * leave the room's socket channel at once). Transports fan these out across nodes themselves.
 */
export interface DomainEventMap {
  'member:added': [{ roomId: string; member: MemberDto }];
  /** A member's role changed: every node updates the role its sockets hold. */
  'member:updated': [{ roomId: string; userId: string; role: MemberRole }];
  'member:removed': [{ roomId: string; userId: string }];
  'agents:changed': [{ roomId: string }];
  'room:updated': [{ roomId: string }];
  /** The room's rows are gone: announce it, then drop its event stream. */
  'room:deleted': [{ roomId: string }];
  'session:created': [{ roomId: string; session: SessionDto }];
  'session:updated': [{ roomId: string; session: SessionDto }];
  'session:deleted': [{ roomId: string; sessionId: string }];
  'file:deleted': [{ roomId: string; fileId: string }];
}

export class DomainEvents extends EventEmitter<DomainEventMap> {}
