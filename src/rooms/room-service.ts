import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { MemberDto, RoomDto } from '../contract/dto';
import type { Orm } from '../db/orm';
import { Agent, Message, Room, RoomMember, Session, Turn, User } from '../db/entities';
import { AppError } from '../shared/errors';
import type { DomainEvents } from '../shared/domain-events';
import { decodeCursor, olderThan, pageOf, type Page } from '../shared/pagination';
import { requireMember, requireOwner } from './access';
import { requireBelowCap } from './caps';
import { presentAgent, presentMember, presentMessage, presentRoom, presentSession, presentTurnState } from './presenters';
import type { AgentDto, MessageDto, SessionDto, TurnStateDto } from '../contract/dto';
import type { AddMemberBody, CreateRoomBody, UpdateRoomBody } from './schemas';
import { mergeRoomSettings, type RoomSettings } from '../contract/room-settings';

/** Rooms and their members. The creator of a room is its first owner; owners manage members. */
export class RoomService {
  constructor(
    private readonly orm: Orm,
    private readonly events: DomainEvents,
    private readonly limits: { roomsPerUser: number },
    private readonly modelAliases: () => string[] = () => [],
  ) {}

  /** Settings name model aliases of the configured alias table only. */
  private checkSettings(settings: RoomSettings): RoomSettings {
    const alias = settings.managerModelAlias;
    if (alias !== undefined && !this.modelAliases().includes(alias)) {
      const message = `Unknown model alias "${alias}"; known: ${this.modelAliases().join(', ')}`;
      throw new AppError('UNKNOWN_MODEL_ALIAS', `settings.managerModelAlias: ${message}`, [
        { path: ['settings', 'managerModelAlias'], message },
      ]);
    }
    return settings;
  }

  async create(userId: string, body: CreateRoomBody): Promise<RoomDto> {
    const room = await this.orm.em.fork().transactional(async (em) => {
      // Rooms the user owns count (handing a room over and leaving it frees a slot).
      const cap = { limit: 'roomsPerUser', max: this.limits.roomsPerUser, what: 'rooms per user' } as const;
      await requireBelowCap(em, em.getReference(User, userId), cap, () => em.count(RoomMember, { user: userId, role: 'owner' }));
      const created = em.create(Room, {
        name: body.name,
        mode: body.mode,
        settings: this.checkSettings(body.settings ?? {}),
        createdBy: em.getReference(User, userId),
      });
      em.create(RoomMember, { room: created, user: em.getReference(User, userId), role: 'owner' });
      return created;
    });
    return presentRoom(room, 'owner');
  }

  async list(userId: string, q: { before?: string; limit: number }): Promise<Page<RoomDto>> {
    const em = this.orm.em.fork();
    const cursor = decodeCursor(q.before);
    const rows = await em.find(
      RoomMember,
      {
        user: userId,
        ...olderThan(cursor),
      },
      { populate: ['room'], orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], limit: q.limit + 1 },
    );
    return pageOf(rows, q.limit, (m) => presentRoom(m.room, m.role));
  }

  async get(userId: string, roomId: string): Promise<RoomDto> {
    const em = this.orm.em.fork();
    const { room, role } = await requireMember(em, roomId, userId);
    return presentRoom(room, role);
  }

  async update(userId: string, roomId: string, body: UpdateRoomBody): Promise<RoomDto> {
    const em = this.orm.em.fork();
    const { room } = await requireOwner(em, roomId, userId);
    if (body.name !== undefined) room.name = body.name;
    if (body.mode !== undefined) room.mode = body.mode;
    if (body.settings !== undefined) room.settings = this.checkSettings(mergeRoomSettings(room.settings ?? {}, body.settings));
    await em.flush();
    this.events.emit('room:updated', { roomId });
    return presentRoom(room, 'owner');
  }

  async listMembers(userId: string, roomId: string): Promise<{ items: MemberDto[] }> {
    const em = this.orm.em.fork();
    await requireMember(em, roomId, userId);
    const rows = await em.find(RoomMember, { room: roomId }, { populate: ['user'], orderBy: { createdAt: 'asc', id: 'asc' } });
    return { items: rows.map(presentMember) };
  }

  async addMember(userId: string, roomId: string, body: AddMemberBody): Promise<MemberDto> {
    const em = this.orm.em.fork();
    await requireOwner(em, roomId, userId);
    let user: User | null;
    if ('userId' in body) {
      user = await em.findOne(User, { id: body.userId });
      if (!user) throw new AppError('USER_NOT_FOUND', 'No such user');
    } else {
      // Owners know a colleague by the `sub` of their identity provider; the row is made now and
      // filled in by the colleague's first token.
      user = await em.upsert(
        User,
        { sub: body.sub, displayName: body.displayName ?? body.sub, kind: 'human' },
        { onConflictFields: ['sub'], onConflictAction: 'ignore' },
      );
      if (!user.id) user = await em.findOneOrFail(User, { sub: body.sub });
    }
    const member = em.create(RoomMember, { room: em.getReference(Room, roomId), user, role: body.role });
    try {
      await em.flush();
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException) {
        throw new AppError('ALREADY_MEMBER', 'That user is already a member of this room');
      }
      throw err;
    }
    this.events.emit('member:added', { roomId, userId: user.id, role: body.role });
    return presentMember(member);
  }

  async removeMember(userId: string, roomId: string, targetUserId: string): Promise<void> {
    const em = this.orm.em.fork();
    // Anyone may leave; only owners remove others.
    if (targetUserId === userId) await requireMember(em, roomId, userId);
    else await requireOwner(em, roomId, userId);
    const member = await em.findOne(RoomMember, { room: roomId, user: targetUserId });
    if (!member) throw new AppError('USER_NOT_FOUND', 'That user is not a member of this room');
    if (member.role === 'owner') {
      const owners = await em.count(RoomMember, { room: roomId, role: 'owner' });
      if (owners <= 1) throw new AppError('LAST_OWNER', 'A room keeps at least one owner');
    }
    await em.remove(member).flush();
    this.events.emit('member:removed', { roomId, userId: targetUserId });
  }

  /** The room's agents in position order (for announcements; no caller check). */
  async agentsOf(roomId: string): Promise<AgentDto[]> {
    const agents = await this.orm.em.fork().find(Agent, { room: roomId }, { orderBy: { position: 'asc', createdAt: 'asc' } });
    return agents.map(presentAgent);
  }

  /** The room's name and mode (for announcements; no caller check). */
  async infoOf(roomId: string): Promise<{ name: string; mode: Room['mode'] }> {
    const room = await this.orm.em.fork().findOneOrFail(Room, { id: roomId });
    return { name: room.name, mode: room.mode };
  }

  /** What a joining client needs to draw the room: its agents, recent sessions and messages. */
  async snapshotData(
    roomId: string,
    opts: { sessions: number; messages: number },
  ): Promise<{
    room: Room;
    agents: AgentDto[];
    sessions: SessionDto[];
    recentMessages: MessageDto[];
    recentTurns: TurnStateDto[];
  }> {
    const em = this.orm.em.fork();
    const room = await em.findOneOrFail(Room, { id: roomId });
    const [agents, sessions, messages] = await Promise.all([
      em.find(Agent, { room: roomId }, { orderBy: { position: 'asc', createdAt: 'asc' } }),
      em.find(Session, { room: roomId }, { orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], limit: opts.sessions }),
      em.find(Message, { room: roomId }, { orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], limit: opts.messages }),
    ]);
    messages.reverse();
    // The turns of those messages, in the order they appear: a returning client sees which ended.
    const turnIds = [...new Set(messages.flatMap((m) => (m.turn ? [m.turn.id] : [])))];
    const turns = turnIds.length ? await em.find(Turn, { id: { $in: turnIds } }) : [];
    const byId = new Map(turns.map((t) => [t.id, t]));
    return {
      room,
      agents: agents.map(presentAgent),
      sessions: sessions.map(presentSession),
      recentMessages: messages.map(presentMessage),
      recentTurns: turnIds.flatMap((id) => (byId.has(id) ? [presentTurnState(byId.get(id)!)] : [])),
    };
  }
}
