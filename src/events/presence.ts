import type { Redis } from 'ioredis';

/**
 * How many sockets each user has in each room, across nodes, so that `presence` is published
 * only for a user's first socket in a room (joined) and their last (left), whatever the number of
 * tabs, devices or re-joins. Memory (one node) or a Redis hash per room (scaled).
 */
export interface PresenceCounter {
  /** Counts one more socket of the user in the room; true when it is their first. */
  enter(roomId: string, userId: string): Promise<boolean>;
  /** Counts one socket fewer; true when it was their last. */
  exit(roomId: string, userId: string): Promise<boolean>;
  /** Drops a deleted room's counts. */
  forget(roomId: string): Promise<void>;
}

export class MemoryPresence implements PresenceCounter {
  private readonly rooms = new Map<string, Map<string, number>>();

  async enter(roomId: string, userId: string): Promise<boolean> {
    let users = this.rooms.get(roomId);
    if (!users) this.rooms.set(roomId, (users = new Map()));
    const n = (users.get(userId) ?? 0) + 1;
    users.set(userId, n);
    return n === 1;
  }

  async exit(roomId: string, userId: string): Promise<boolean> {
    const users = this.rooms.get(roomId);
    const n = (users?.get(userId) ?? 0) - 1;
    if (n > 0) {
      users!.set(userId, n);
      return false;
    }
    users?.delete(userId);
    if (users && users.size === 0) this.rooms.delete(roomId);
    return n === 0;
  }

  async forget(roomId: string): Promise<void> {
    this.rooms.delete(roomId);
  }
}

/** Decrements, and removes the field at zero, in one step. */
const EXIT_SCRIPT = `
local n = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
if n <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
return n
`;

/**
 * Scaled mode: one hash per room (user -> sockets). A node that dies without its sockets leaving
 * leaves its counts behind until the key expires (refreshed on every enter), so such a user may
 * not be announced as joined again within `ttlSeconds`; presence is a hint, never a permission.
 */
export class RedisPresence implements PresenceCounter {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly ttlSeconds: number,
  ) {
    redis.defineCommand('pantheonPresenceExit', { numberOfKeys: 1, lua: EXIT_SCRIPT });
  }

  private key = (roomId: string) => `${this.keyPrefix}room:{${roomId}}:presence`;

  async forget(roomId: string): Promise<void> {
    await this.redis.del(this.key(roomId));
  }

  async enter(roomId: string, userId: string): Promise<boolean> {
    const res = await this.redis.multi().hincrby(this.key(roomId), userId, 1).expire(this.key(roomId), this.ttlSeconds).exec();
    return Number(res?.[0]?.[1]) === 1;
  }

  async exit(roomId: string, userId: string): Promise<boolean> {
    const n = await (this.redis as unknown as { pantheonPresenceExit(key: string, field: string): Promise<number> }).pantheonPresenceExit(
      this.key(roomId),
      userId,
    );
    return Number(n) === 0;
  }
}
