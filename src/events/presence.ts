import type { Redis } from 'ioredis';

/** A user present in a room, as a snapshot lists them. */
export interface PresentUser {
  userId: string;
  displayName: string;
  kind: 'human' | 'bot';
}

/** Who is online in a room: how many users, and a page of them. */
export interface OnlinePage {
  count: number;
  users: PresentUser[];
}

/**
 * How many sockets each user has in each room, across nodes, so that `presence` is published
 * only for a user's first socket in a room (joined) and their last (left), whatever the number of
 * tabs, devices or re-joins. The same map answers a join's snapshot (how many are online, and a
 * first page of them) without asking every node for its sockets: a join costs the same in a room
 * of 20 and of 1,000. Memory (one node) or Redis hashes per room (scaled).
 */
export interface PresenceCounter {
  /** Counts one more socket of the user in the room; true when it is their first. */
  enter(roomId: string, user: PresentUser): Promise<boolean>;
  /** Counts one socket fewer; true when it was their last. */
  exit(roomId: string, userId: string): Promise<boolean>;
  /** Drops a deleted room's counts. */
  forget(roomId: string): Promise<void>;
  /** How many users are online in the room, and at most `limit` of them (which ones is unspecified). */
  online(roomId: string, limit: number): Promise<OnlinePage>;
  /** Which of these users have a socket in the room now, and who they are. */
  present(roomId: string, userIds: string[]): Promise<Map<string, PresentUser>>;
}

export class MemoryPresence implements PresenceCounter {
  private readonly rooms = new Map<string, Map<string, { sockets: number; user: PresentUser }>>();

  async enter(roomId: string, user: PresentUser): Promise<boolean> {
    let users = this.rooms.get(roomId);
    if (!users) this.rooms.set(roomId, (users = new Map()));
    const entry = users.get(user.userId);
    if (entry) {
      entry.sockets++;
      entry.user = user;
      return false;
    }
    users.set(user.userId, { sockets: 1, user });
    return true;
  }

  async exit(roomId: string, userId: string): Promise<boolean> {
    const users = this.rooms.get(roomId);
    const entry = users?.get(userId);
    if (!users || !entry) return false;
    if (--entry.sockets > 0) return false;
    users.delete(userId);
    if (users.size === 0) this.rooms.delete(roomId);
    return true;
  }

  async online(roomId: string, limit: number): Promise<OnlinePage> {
    const users = this.rooms.get(roomId);
    if (!users) return { count: 0, users: [] };
    const page: PresentUser[] = [];
    for (const { user } of users.values()) {
      if (page.length >= limit) break;
      page.push(user);
    }
    return { count: users.size, users: page };
  }

  async present(roomId: string, userIds: string[]): Promise<Map<string, PresentUser>> {
    const users = this.rooms.get(roomId);
    const out = new Map<string, PresentUser>();
    for (const id of userIds) {
      const entry = users?.get(id);
      if (entry) out.set(id, entry.user);
    }
    return out;
  }

  async forget(roomId: string): Promise<void> {
    this.rooms.delete(roomId);
  }
}

/** Decrements, and removes the user (count and who they are) at zero, in one step. */
const EXIT_SCRIPT = `
local n = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
if n <= 0 then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
end
return n
`;

/**
 * Scaled mode: two hashes per room, user -> sockets and user -> who they are (display name, kind).
 * A node that dies without its sockets leaving leaves its counts behind until the keys expire
 * (refreshed on every enter), so such a user may not be announced as joined again within
 * `ttlSeconds`, and may be listed online meanwhile; presence is a hint, never a permission.
 */
export class RedisPresence implements PresenceCounter {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly ttlSeconds: number,
  ) {
    redis.defineCommand('pantheonPresenceExit', { numberOfKeys: 2, lua: EXIT_SCRIPT });
  }

  private key = (roomId: string) => `${this.keyPrefix}room:{${roomId}}:presence`;
  private whoKey = (roomId: string) => `${this.keyPrefix}room:{${roomId}}:presence:who`;

  async forget(roomId: string): Promise<void> {
    await this.redis.del(this.key(roomId), this.whoKey(roomId));
  }

  async enter(roomId: string, user: PresentUser): Promise<boolean> {
    const key = this.key(roomId);
    const who = this.whoKey(roomId);
    const res = await this.redis
      .multi()
      .hincrby(key, user.userId, 1)
      .hset(who, user.userId, JSON.stringify({ displayName: user.displayName, kind: user.kind }))
      .expire(key, this.ttlSeconds)
      .expire(who, this.ttlSeconds)
      .exec();
    return Number(res?.[0]?.[1]) === 1;
  }

  async exit(roomId: string, userId: string): Promise<boolean> {
    const n = await (this.redis as unknown as { pantheonPresenceExit(key: string, who: string, field: string): Promise<number> }).pantheonPresenceExit(
      this.key(roomId),
      this.whoKey(roomId),
      userId,
    );
    return Number(n) === 0;
  }

  async present(roomId: string, userIds: string[]): Promise<Map<string, PresentUser>> {
    const out = new Map<string, PresentUser>();
    if (!userIds.length) return out;
    // Who they are is removed with the last socket (EXIT_SCRIPT): a user listed there is present.
    const infos = await this.redis.hmget(this.whoKey(roomId), ...userIds);
    userIds.forEach((userId, i) => {
      const raw = infos[i];
      if (!raw) return;
      try {
        const info = JSON.parse(raw) as { displayName?: unknown; kind?: unknown };
        out.set(userId, { userId, displayName: String(info.displayName ?? ''), kind: info.kind === 'bot' ? 'bot' : 'human' });
      } catch {
        // Not ours: presence is a hint.
      }
    });
    return out;
  }

  async online(roomId: string, limit: number): Promise<OnlinePage> {
    // HLEN is O(1) and HRANDFIELD with a positive count O(count): neither grows with the room.
    const res = await this.redis
      .multi()
      .hlen(this.key(roomId))
      .call('HRANDFIELD', this.whoKey(roomId), String(Math.max(1, limit)), 'WITHVALUES')
      .exec();
    const count = Number(res?.[0]?.[1] ?? 0);
    // RESP2 answers field, value, field, value...; RESP3 answers [field, value] pairs.
    const flat = ((res?.[1]?.[1] as (string | string[])[] | null) ?? []).flat().slice(0, limit * 2);
    const users: PresentUser[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      try {
        const info = JSON.parse(flat[i + 1]!) as { displayName?: unknown; kind?: unknown };
        users.push({ userId: flat[i]!, displayName: String(info.displayName ?? ''), kind: info.kind === 'bot' ? 'bot' : 'human' });
      } catch {
        // A field that is not ours is skipped: presence is a hint.
      }
    }
    return { count, users };
  }
}
