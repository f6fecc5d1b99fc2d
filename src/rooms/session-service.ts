import type { MessageDto, SessionDto } from '../contract/dto';
import type { Em, Orm } from '../db/orm';
import { Agent, Message, Room, Session, User } from '../db/entities';
import { can } from '../domain/permissions';
import type { DomainEvents } from '../shared/domain-events';
import { AppError } from '../shared/errors';
import { requireNoRunningTurn } from './idle-sessions';
import { decodeCursor, olderThan, pageOf, type Page } from '../shared/pagination';
import { requireMember, requirePermission, requireSessionMember } from './access';
import { requireBelowCap } from './caps';
import { presentMessage, presentSession } from './presenters';
import { exportMarkdown, type SessionExport } from './session-export';

/** Sessions of a room and their message history. */
export class SessionService {
  constructor(
    private readonly orm: Orm,
    private readonly limits: { sessionsPerRoom: number; exportMaxMessages: number },
    private readonly events?: DomainEvents,
  ) {}

  /** A session the caller may rename or delete: their own (while they may send), or any with sessions.manage. */
  private async manageable(em: Em, userId: string, sessionId: string): Promise<Session> {
    const { session, role } = await requireSessionMember(em, sessionId, userId);
    const own = session.createdBy.id === userId && can(role, 'messages.send');
    if (!own && !can(role, 'sessions.manage')) {
      throw new AppError('FORBIDDEN', `A ${role} may not rename or delete ${session.createdBy.id === userId ? 'sessions' : "other members' sessions"} in this room`, {
        role,
        action: 'sessions.manage',
      });
    }
    return session;
  }

  async rename(userId: string, sessionId: string, title: string): Promise<SessionDto> {
    const em = this.orm.em.fork();
    const session = await this.manageable(em, userId, sessionId);
    session.title = title;
    await em.flush();
    const dto = presentSession(session);
    this.events?.emit('session:updated', { roomId: session.room.id, session: dto });
    return dto;
  }

  /** Deletes a session with its messages, turns, usage and tool rows; SESSION_BUSY while a turn runs in it. */
  async delete(userId: string, sessionId: string): Promise<void> {
    const roomId = await this.orm.em.fork().transactional(async (em) => {
      const session = await this.manageable(em, userId, sessionId);
      await requireNoRunningTurn(em, [sessionId]);
      await em.nativeDelete(Session, { id: sessionId });
      return session.room.id;
    });
    this.events?.emit('session:deleted', { roomId, sessionId });
  }

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
    const dto = presentSession(session);
    this.events?.emit('session:created', { roomId, session: dto });
    return dto;
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

  /** The whole session (up to EXPORT_MAX_MESSAGES, oldest first), as JSON or Markdown, for a member. */
  async export(userId: string, sessionId: string, format: 'md' | 'json'): Promise<{ filename: string; contentType: string; body: string }> {
    const em = this.orm.em.fork();
    const { session, room } = await requireSessionMember(em, sessionId, userId);
    const max = this.limits.exportMaxMessages;
    const [rows, agents] = await Promise.all([
      em.find(Message, { session: sessionId }, { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }], limit: max + 1, populate: ['authorUser'] }),
      em.find(Agent, { room: room.id }, { fields: ['key', 'name'] }),
    ]);
    const names = new Map(agents.map((a) => [a.key, a.name]));
    const data: SessionExport = {
      room: { id: room.id, name: room.name },
      session: presentSession(session),
      exportedAt: new Date().toISOString(),
      messages: rows.slice(0, max).map((m) => ({
        ...presentMessage(m),
        authorName:
          m.authorType === 'user' ? (m.authorUser?.displayName ?? 'someone') : m.authorType === 'agent' ? (names.get(m.agentKey ?? '') ?? m.agentKey ?? 'agent') : 'system',
      })),
      truncated: rows.length > max,
    };
    // The file name is the session's id: a title could carry anything into a header.
    if (format === 'json') return { filename: `session-${sessionId}.json`, contentType: 'application/json; charset=utf-8', body: JSON.stringify(data, null, 2) };
    return { filename: `session-${sessionId}.md`, contentType: 'text/markdown; charset=utf-8', body: exportMarkdown(data) };
  }
}
