import type { MemberRole } from '../contract/enums';

/**
 * Who may do what in a room: the one table every check reads (REST, socket events, tools).
 * Viewers receive everything and do nothing; members take part; admins run the room; owners also
 * hand over or delete it.
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
  /** Rename or delete any session. */
  'sessions.manage': ['owner', 'admin'],
  /** Answer an agent's request to run a tool. */
  'tools.approve': ['owner', 'admin', 'member'],
} as const satisfies Record<string, readonly MemberRole[]>;

export type RoomAction = keyof typeof ROOM_PERMISSIONS;

export function can(role: MemberRole, action: RoomAction): boolean {
  return (ROOM_PERMISSIONS[action] as readonly MemberRole[]).includes(role);
}
