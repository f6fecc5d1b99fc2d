import type { MemberRole } from '../contract/enums';
import { AppError } from '../shared/errors';

/**
 * Who may do what in a room: the one table every check reads (REST, socket events, tools).
 * Viewers receive everything and do nothing; members take part; admins run the room; owners also
 * hand over or delete it. Reading the room (join, snapshot, events, history) takes membership only.
 */
export const ROOM_PERMISSIONS = {
  /** Change the room's name, mode and settings. */
  'room.update': ['owner', 'admin'],
  /** Delete the room with everything in it. */
  'room.delete': ['owner'],
  /** Add, change and remove agents. */
  'agents.manage': ['owner', 'admin'],
  /** Add and remove members, change their roles (only owners make or unmake owners). */
  'members.manage': ['owner', 'admin'],
  /** Send messages (which start turns), create sessions, type. */
  'messages.send': ['owner', 'admin', 'member'],
  /** Upload files. */
  'files.upload': ['owner', 'admin', 'member'],
  /** Delete any file (the uploader may delete their own). */
  'files.delete': ['owner', 'admin'],
  /** Cancel any turn (the sender may cancel their own). */
  'turns.cancel_any': ['owner', 'admin'],
  /** Regenerate an agent's answer. */
  'turns.regenerate': ['owner', 'admin', 'member'],
  /** Rename or delete any session (its creator may rename or delete their own). */
  'sessions.manage': ['owner', 'admin'],
  /** Answer an agent's request to run a tool. */
  'tools.approve': ['owner', 'admin', 'member'],
} as const satisfies Record<string, readonly MemberRole[]>;

export type RoomAction = keyof typeof ROOM_PERMISSIONS;

export function can(role: MemberRole, action: RoomAction): boolean {
  return (ROOM_PERMISSIONS[action] as readonly MemberRole[]).includes(role);
}

/** What each action is, as a refusal says it ("A viewer may not send messages in this room"). */
const ACTION_WORDS: Record<RoomAction, string> = {
  'room.update': 'change this room',
  'room.delete': 'delete this room',
  'agents.manage': "change this room's agents",
  'members.manage': "change this room's members",
  'messages.send': 'send messages, type or start sessions in this room',
  'files.upload': 'upload files to this room',
  'files.delete': "delete other members' files in this room",
  'turns.cancel_any': "cancel other members' turns in this room",
  'turns.regenerate': 'regenerate answers in this room',
  'sessions.manage': "rename or delete other members' sessions in this room",
  'tools.approve': 'approve tool calls in this room',
};

const ROLE_WORDS: Record<MemberRole, string> = { owner: 'An owner', admin: 'An admin', member: 'A member', viewer: 'A viewer' };

/** The refusal of an action to a role: FORBIDDEN, naming both. */
export function forbidden(role: MemberRole, action: RoomAction): AppError {
  return new AppError('FORBIDDEN', `${ROLE_WORDS[role]} may not ${ACTION_WORDS[action]}`, { role, action });
}

/** Throws FORBIDDEN unless `role` may do `action`. */
export function requireCan(role: MemberRole, action: RoomAction): void {
  if (!can(role, action)) throw forbidden(role, action);
}

/**
 * Role changes: who may give `next` to a member who has `current`. Owners alone make or unmake
 * owners; otherwise `members.manage` decides.
 */
export function canChangeRole(actor: MemberRole, current: MemberRole, next: MemberRole): boolean {
  if (!can(actor, 'members.manage')) return false;
  if (current === 'owner' || next === 'owner') return actor === 'owner';
  return true;
}
