import type { AgentDto, MemberDto, MessageDto, RoomDto, SessionDto, TurnStateDto, UserDto } from '../contract/dto';
import type { Agent, Message, Room, RoomMember, Session, Turn, User } from '../db/entities';

export const presentUser = (u: User): UserDto => ({ id: u.id, sub: u.sub, displayName: u.displayName, kind: u.kind });

export const presentRoom = (r: Room, role?: RoomMember['role']): RoomDto => ({
  id: r.id,
  name: r.name,
  mode: r.mode,
  settings: r.settings ?? {},
  ...(role ? { role } : {}),
  createdAt: r.createdAt.toISOString(),
});

export const presentMember = (m: RoomMember): MemberDto => ({
  userId: m.user.id,
  role: m.role,
  displayName: m.user.displayName,
  kind: m.user.kind,
});

export const presentAgent = (a: Agent): AgentDto => ({
  key: a.key,
  name: a.name,
  rolePrompt: a.rolePrompt,
  modelAlias: a.modelAlias,
  toolPermissions: [...a.toolPermissions],
  position: a.position,
});

export const presentSession = (s: Session): SessionDto => ({
  id: s.id,
  roomId: s.room.id,
  title: s.title,
  summary: s.summary ?? null,
  createdAt: s.createdAt.toISOString(),
});

export const presentMessage = (m: Message): MessageDto => ({
  id: m.id,
  sessionId: m.session.id,
  turnId: m.turn?.id ?? null,
  authorType: m.authorType,
  authorUserId: m.authorUser?.id ?? null,
  agentKey: m.agentKey ?? null,
  content: m.content,
  status: m.status,
  modelAlias: m.modelAlias ?? null,
  clientMsgId: m.clientMsgId ?? null,
  createdAt: m.createdAt.toISOString(),
});

export const presentTurnState = (t: Turn): TurnStateDto => ({ turnId: t.id, sessionId: t.session.id, status: t.status });
