/** The Socket.IO channel of a room. */
export const roomChannel = (roomId: string) => `room:${roomId}`;
/** The Socket.IO channel of one user (all their sockets, on every node). */
export const userChannel = (userId: string) => `user:${userId}`;
