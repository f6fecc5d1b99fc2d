import type { MemberRole } from '../contract/enums';
import { requireCan, type RoomAction } from '../domain/permissions';
import { roomChannel, userChannel } from './channels';
import type { AppServer, AppSocket, RealtimeContext } from './context';
import type { RoomDelivery } from './room-delivery';

/**
 * A socket keeps its role in each room it joined (`socket.data.roles`), read at the join. A role
 * change reaches every node as the room event `member:updated`; each node applies it to its own
 * sockets of that member before delivering the event, so from that event on the member's sockets
 * are allowed or refused by the new role, without rejoining. A socket removed from the room leaves
 * its channel (on every node), and its kept role is no longer trusted.
 */

/** Sets the role of a member's sockets on this node that are in the room, or joining it. */
export function applyRole(io: AppServer, delivery: RoomDelivery, roomId: string, userId: string, role: MemberRole): void {
  const nsp = io.of('/');
  const ids = nsp.adapter.rooms.get(userChannel(userId));
  if (!ids) return;
  for (const id of ids) {
    const socket = nsp.sockets.get(id) as AppSocket | undefined;
    if (!socket) continue;
    if (socket.rooms.has(roomChannel(roomId)) || delivery.isHeld(socket, roomId)) socket.data.roles.set(roomId, role);
  }
}

/**
 * The socket's role in the room: the one it keeps while it is in the room, else the database's
 * (a socket may send to a room it has not joined). ROOM_NOT_FOUND for a non-member.
 */
export async function socketRole(ctx: Pick<RealtimeContext, 'services'>, socket: AppSocket, roomId: string): Promise<MemberRole> {
  const kept = socket.rooms.has(roomChannel(roomId)) ? socket.data.roles.get(roomId) : undefined;
  return kept ?? ctx.services.access.roleOf(roomId, socket.data.userId);
}

/** FORBIDDEN (naming the role and the action) unless the socket's role in the room may do `action`. */
export async function requireSocketAction(ctx: Pick<RealtimeContext, 'services'>, socket: AppSocket, roomId: string, action: RoomAction): Promise<MemberRole> {
  const role = await socketRole(ctx, socket, roomId);
  requireCan(role, action);
  return role;
}

/** A deleted room: this node's sockets leave its channel and forget it (no presence is announced for it). */
export function leaveDeletedRoom(io: AppServer, roomId: string): void {
  const nsp = io.of('/');
  for (const id of [...(nsp.adapter.rooms.get(roomChannel(roomId)) ?? [])]) {
    const socket = nsp.sockets.get(id) as AppSocket | undefined;
    if (!socket) continue;
    socket.data.rooms.delete(roomId);
    socket.data.roles.delete(roomId);
    socket.leave(roomChannel(roomId));
  }
}
