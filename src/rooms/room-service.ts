import { LockMode, UniqueConstraintViolationException } from '@mikro-orm/core';
import type { MemberDto, RoomDto } from '../contract/dto';
import type { Em, Orm } from '../db/orm';
import { Agent, BudgetLedger, Message, Room, RoomMember, Session, StoredFile, Turn, User, type MemberRole } from '../db/entities';
import { canChangeRole } from '../domain/permissions';
import { AppError } from '../shared/errors';
import type { DomainEvents } from '../shared/domain-events';
import { decodeCursor, olderThan, pageOf, type Page } from '../shared/pagination';
import { requireMember, requirePermission } from './access';
import { requireBelowCap } from './caps';
import { requireNoRunningTurn } from './idle-sessions';
import { presentAgent, presentMember, presentMessage, presentRoom, presentSession, presentTurnState } from './presenters';
import type { AgentDto, MessageDto, SessionDto, TurnStateDto } from '../contract/dto';
import type { AddMemberBody, CreateRoomBody, UpdateMemberBody, UpdateRoomBody } from './schemas';
import { mergeRoomSettings, type RoomSettings } from '../contract/room-settings';

/**
 * Rooms and their members. The creator of a room is its first owner; owners and admins manage
 * members (owners alone make or unmake owners), and a room always keeps one owner.
 */
export class RoomService {
  constructor(
    private readonly orm: Orm,
    private readonly events: DomainEvents,
    private readonly limits: { roomsPerUser: number; botsMayCreateRooms?: boolean },
    private readonly modelAliases: () => string[] = () => [],
    /** Stored bytes that no file row names any more are removed (the file service does it). */
    private readonly storedFiles: { removeUnreferenced(sha256s: string[]): Promise<void> } = { removeUnreferenced: async () => {} },
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

  async create(creator: { id: string; kind: User['kind'] }, body: CreateRoomBody): Promise<RoomDto> {
    // Bots join rooms people give them; making rooms of their own is the deployment's choice.
    if (creator.kind === 'bot' && !this.limits.botsMayCreateRooms) {
      throw new AppError('FORBIDDEN', 'Bots may not create rooms on this server (BOTS_MAY_CREATE_ROOMS)');
    }
    const userId = creator.id;
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
    const { room, role } = await requirePermission(em, roomId, userId, 'room.update');
    if (body.name !== undefined) room.name = body.name;
    if (body.mode !== undefined) room.mode = body.mode;
    if (body.settings !== undefined) room.settings = this.checkSettings(mergeRoomSettings(room.settings ?? {}, body.settings));
    await em.flush();
    this.events.emit('room:updated', { roomId });
    return presentRoom(room, role);
  }

  /**
   * Deletes the room (owners only) with everything in it: sessions, messages, turns, usage and tool
   * rows, files (rows, and stored bytes no other room shares), agents, members. Refused with
   * SESSION_BUSY while a turn runs in one of its sessions. Then `room:deleted` goes to the room and
   * its event stream is dropped.
   */
  async deleteRoom(userId: string, roomId: string): Promise<void> {
    const sha256s = await this.orm.em.fork().transactional(async (em) => {
      await requirePermission(em, roomId, userId, 'room.delete');
      // New sessions, members and agents wait for this row; then find it gone.
      await em.lock(em.getReference(Room, roomId), LockMode.PESSIMISTIC_WRITE);
      const sessions = await em.find(Session, { room: roomId }, { fields: ['id'] });
      await requireNoRunningTurn(em, sessions.map((x) => x.id));
      const files = await em.find(StoredFile, { room: roomId }, { fields: ['sha256'] });
      // Every table that hangs from a room does so with ON DELETE CASCADE, but the budget ledger,
      // whose rows name a room or a user by id.
      await em.nativeDelete(BudgetLedger, { scope: 'room', scopeId: roomId });
      await em.nativeDelete(Room, { id: roomId });
      return files.map((f) => f.sha256);
    });
    this.events.emit('room:deleted', { roomId });
    await this.storedFiles.removeUnreferenced(sha256s);
  }

  async listMembers(userId: string, roomId: string): Promise<{ items: MemberDto[] }> {
    const em = this.orm.em.fork();
    await requireMember(em, roomId, userId);
    const rows = await em.find(RoomMember, { room: roomId }, { populate: ['user'], orderBy: { createdAt: 'asc', id: 'asc' } });
    return { items: rows.map(presentMember) };
  }

  async addMember(userId: string, roomId: string, body: AddMemberBody): Promise<MemberDto> {
    const em = this.orm.em.fork();
    const { role: actor } = await requirePermission(em, roomId, userId, 'members.manage');
    if (body.role === 'owner' && actor !== 'owner') throw new AppError('FORBIDDEN', 'Only an owner may make someone an owner', { role: actor });
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
    const dto = presentMember(member);
    this.events.emit('member:added', { roomId, member: dto });
    return dto;
  }

  /**
   * Gives a member another role. Owners alone make or unmake owners; the room keeps one owner
   * (LAST_OWNER). The room row is locked, so two owners demoting each other at once cannot both win.
   */
  async updateMember(userId: string, roomId: string, targetUserId: string, body: UpdateMemberBody): Promise<MemberDto> {
    const { member, changed } = await this.orm.em.fork().transactional(async (em) => {
      const { role: actor } = await requirePermission(em, roomId, userId, 'members.manage');
      await em.lock(em.getReference(Room, roomId), LockMode.PESSIMISTIC_WRITE);
      const target = await this.memberOf(em, roomId, targetUserId);
      if (!canChangeRole(actor, target.role, body.role)) {
        throw new AppError('FORBIDDEN', 'Only an owner may make or unmake an owner', { role: actor });
      }
      const was = target.role;
      if (was === 'owner' && body.role !== 'owner') await this.requireAnotherOwner(em, roomId);
      target.role = body.role;
      return { member: target, changed: was !== body.role };
    });
    if (changed) this.events.emit('member:updated', { roomId, userId: targetUserId, role: body.role });
    return presentMember(member);
  }

  async removeMember(userId: string, roomId: string, targetUserId: string): Promise<void> {
    await this.orm.em.fork().transactional(async (em) => {
      // Anyone may leave; owners and admins remove others, and only owners remove an owner.
      const { role: actor } =
        targetUserId === userId ? await requireMember(em, roomId, userId) : await requirePermission(em, roomId, userId, 'members.manage');
      await em.lock(em.getReference(Room, roomId), LockMode.PESSIMISTIC_WRITE);
      const member = await this.memberOf(em, roomId, targetUserId);
      if (member.role === 'owner') {
        if (targetUserId !== userId && actor !== 'owner') throw new AppError('FORBIDDEN', 'Only an owner may remove an owner', { role: actor });
        await this.requireAnotherOwner(em, roomId);
      }
      em.remove(member);
    });
    this.events.emit('member:removed', { roomId, userId: targetUserId });
  }

  private async memberOf(em: Em, roomId: string, userId: string): Promise<RoomMember> {
    const member = await em.findOne(RoomMember, { room: roomId, user: userId }, { populate: ['user'] });
    if (!member) throw new AppError('USER_NOT_FOUND', 'That user is not a member of this room');
    return member;
  }

  /** LAST_OWNER unless the room has an owner besides the one about to go. */
  private async requireAnotherOwner(em: Em, roomId: string): Promise<void> {
    const owners = await em.count(RoomMember, { room: roomId, role: 'owner' satisfies MemberRole });
    if (owners <= 1) throw new AppError('LAST_OWNER', 'A room keeps at least one owner: make someone else an owner first');
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
    opts: { messages: number },
  ): Promise<{
    room: Room;
    agents: AgentDto[];
    recentMessages: MessageDto[];
    recentTurns: TurnStateDto[];
  }> {
    const em = this.orm.em.fork();
    const room = await em.findOneOrFail(Room, { id: roomId });
    const [agents, messages] = await Promise.all([
      em.find(Agent, { room: roomId }, { orderBy: { position: 'asc', createdAt: 'asc' } }),
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
      recentMessages: messages.map(presentMessage),
      recentTurns: turnIds.flatMap((id) => (byId.has(id) ? [presentTurnState(byId.get(id)!)] : [])),
    };
  }

  /** The room's newest sessions (a join snapshot). */
  async recentSessions(roomId: string, limit: number): Promise<SessionDto[]> {
    const sessions = await this.orm.em.fork().find(Session, { room: roomId }, { orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], limit });
    return sessions.map(presentSession);
  }
}
