import type { AgentDto, MemberDto, MessageDto, RoomDto, SessionDto, TurnStateDto, UserDto } from '../contract/dto';
import { roomSettingsSchema, type RoomSettings } from '../contract/room-settings';
import type { Agent, Message, Room, RoomMember, Session, Turn, User } from '../db/entities';

export const presentUser = (u: User): UserDto => ({ id: u.id, sub: u.sub, displayName: u.displayName, kind: u.kind });

/** Stored settings as the contract shows them: keys written before settings had a schema are left out. */
function knownSettings(stored: unknown): RoomSettings {
  if (!stored || typeof stored !== 'object') return {};
  const whole = roomSettingsSchema.safeParse(stored);
  if (whole.success) return whole.data;
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(stored)) {
    if (roomSettingsSchema.safeParse({ [key]: value }).success) kept[key] = value;
  }
  return kept as RoomSettings;
}

export const presentRoom = (r: Room, role?: RoomMember['role']): RoomDto => ({
  id: r.id,
  name: r.name,
  mode: r.mode,
  settings: knownSettings(r.settings),
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
  toolApprovals: { ...(a.toolApprovals ?? {}) },
  position: a.position,
});

export const presentSession = (s: Session): SessionDto => ({
  id: s.id,
  roomId: s.room.id,
  title: s.title,
  summary: s.summary ?? null,
  summaryData: s.summaryData ? { topics: s.summaryData.topics, decisions: s.summaryData.decisions, openQuestions: s.summaryData.openQuestions } : null,
  summaryFallback: s.summaryData?.fallback ?? [],
  createdAt: s.createdAt.toISOString(),
});

export const presentMessage = (m: Message): MessageDto => ({
  id: m.id,
  sessionId: m.session.id,
  turnId: m.turn?.id ?? null,
  authorType: m.authorType,
  authorUserId: m.authorUser?.id ?? null,
  agentKey: m.agentKey ?? null,
  // A deleted message is a tombstone: it keeps its place in history, not its text.
  content: m.deletedAt ? '' : m.content,
  status: m.status,
  modelAlias: m.modelAlias ?? null,
  clientMsgId: m.clientMsgId ?? null,
  createdAt: m.createdAt.toISOString(),
  attachments: m.deletedAt ? [] : (m.attachments ?? []).map((a) => ({ id: a.id, filename: a.filename, kind: a.kind, sizeBytes: a.sizeBytes })),
  version: m.version ?? 1,
  versionOf: m.versionOf?.id ?? null,
  editedAt: m.editedAt?.toISOString() ?? null,
  deletedAt: m.deletedAt?.toISOString() ?? null,
});

export const presentTurnState = (t: Turn): TurnStateDto => ({ turnId: t.id, sessionId: t.session.id, status: t.status });
