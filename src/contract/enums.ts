// Every enumeration that crosses the wire, declared once. The entities store these same values
// (src/db/entities import them), so a value added here is a column value there, and vice versa.

export const ROOM_MODES = ['manual', 'roundtable', 'orchestrator'] as const;
export const MEMBER_ROLES = ['owner', 'admin', 'member', 'viewer'] as const;
export const USER_KINDS = ['human', 'bot'] as const;
export const TURN_STATUSES = ['queued', 'running', 'completed', 'partial', 'failed', 'cancelled', 'interrupted'] as const;
export const MESSAGE_STATUSES = ['complete', 'partial', 'failed', 'cancelled'] as const;
export const AUTHOR_TYPES = ['user', 'agent', 'system'] as const;
export const FILE_STATUSES = ['queued', 'parsing', 'ready', 'failed'] as const;

export type RoomMode = (typeof ROOM_MODES)[number];
export type MemberRole = (typeof MEMBER_ROLES)[number];
export type UserKind = (typeof USER_KINDS)[number];
export type TurnStatus = (typeof TURN_STATUSES)[number];
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];
export type AuthorType = (typeof AUTHOR_TYPES)[number];
export type FileStatus = (typeof FILE_STATUSES)[number];
