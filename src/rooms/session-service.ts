import type { MessageDto, SessionDto } from '../contract/dto';
import type { Orm } from '../db/orm';
import { Message, Room, Session, User } from '../db/entities';
import { decodeCursor, olderThan, pageOf, type Page } from '../shared/pagination';
import { requireMember, requirePermission, requireSessionMember } from './access';
import { requireBelowCap } from './caps';
import { presentMessage, presentSession } from './presenters';

/** Sessions of a room and their message history. */
export class SessionService {
  constructor(
    private readonly orm: Orm,
    private readonly limits: { sessionsPerRoom: number },
  ) {}

  async create(userId: string, roomId: string, title: string): Promise<SessionDto> {
    const session = await this.orm.em.fork().transactional(async (em) => {
      const { room } = await requirePermission(em, roomId, userId, 'messages.send');
      const cap = { limit: 'sessionsPerRoom', max: this.limits.sessionsPerRoom, what: 'sessions per room' } as const;
      await requireBelowCap(em, room, cap, () => em.count(Session, { room: roomId }));
      return em.create(Session, {
        room: em.getReference(Room, roomId),
        title,
        createdBy: em.getReference(User, userId),
      });
    });
    return presentSession(session);
  }

  async list(userId: string, roomId: string, q: { before?: string; limit: number }): Promise<Page<SessionDto>> {
    const em = this.orm.em.fork();
    await requireMember(em, roomId, userId);
    const cursor = decodeCursor(q.before);
    const rows = await em.find(
      Session,
      {
        room: roomId,
        ...olderThan(cursor),
      },
      { orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], limit: q.limit + 1 },
    );
    return pageOf(rows, q.limit, presentSession);
  }

  /** Messages newest first; `before` is the cursor of the previous page. */
  async messages(userId: string, sessionId: string, q: { before?: string; limit: number }): Promise<Page<MessageDto>> {
    const em = this.orm.em.fork();
    await requireSessionMember(em, sessionId, userId);
    const cursor = decodeCursor(q.before);
    const rows = await em.find(
      Message,
      {
        session: sessionId,
        ...olderThan(cursor),
      },
      { orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], limit: q.limit + 1 },
    );
    return pageOf(rows, q.limit, presentMessage);
  }
}
