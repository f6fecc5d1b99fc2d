import type { MemberRole } from '../contract/enums';
import type { RoomEvent, RoomEventName, RoomSnapshot } from '../contract/events';
import type { RoomSettings } from '../contract/room-settings';
import type { StreamPosition } from '../events/stream-position';

/**
 * The parts of a snapshot that change only with a sequenced room event, kept between joins of a
 * room on this node (`JoinCache`): the room, its agents and settings, the newest sessions, the
 * recent messages and their turns, and the approvals waiting.
 */
export interface KeptSnapshotParts {
  name: string;
  mode: RoomSnapshot['mode'];
  settings: RoomSettings | null;
  agents: RoomSnapshot['agents'];
  sessions: RoomSnapshot['sessions'];
  recentMessages: RoomSnapshot['recentMessages'];
  recentTurns: RoomSnapshot['recentTurns'];
  pendingApprovals: RoomSnapshot['pendingApprovals'];
  /**
   * The room's budget as read with the parts, kept only when no daily limit applies to the room:
   * its ledger row then changes only with spend a `budget:updated` announces (a limited room's
   * holds move without an event, so its budget is read on every join). Null otherwise.
   */
  budget: RoomSnapshot['budget'] | null;
}

/**
 * What this node remembers between joins of a room, so that a burst of joins does not read the
 * same rows once per join: each member's role, and the parts of the room's snapshot that change
 * only with a sequenced room event (`T`: the room, its agents and settings, the newest sessions,
 * the recent messages and their turns, the approvals waiting).
 *
 * Every node's sink sees every event of a room it follows, in order (`observe`). Presence events,
 * `agent:delta`, `tool:progress` and `file:progress` change nothing kept here; any other event
 * drops the room's kept parts (a role event only the member's role), and so does a break in the stream (a new epoch, a seq that jumps: events this
 * node did not see). A value read while such an event arrived is not kept (`generation`), and a
 * join whose join point this node has not seen in order reads afresh. What a snapshot shows that
 * can change without a room event (a limited room's budget ledger, turns in flight, who is online)
 * is never kept; the budget of a room without a daily limit is (see KeptSnapshotParts). Entries
 * older than `maxAgeMs` are read again whatever happened.
 */
export class JoinCache<T> {
  private readonly rooms = new Map<string, RoomState<T>>();

  constructor(
    private readonly maxAgeMs = 60_000,
    private readonly now: () => number = Date.now,
    /** Rooms kept at once; the one kept longest goes first (a room's parts hold up to 50 messages). */
    private readonly maxRooms = 256,
  ) {}

  /** Every room event this node delivers, in order, before it reaches any socket. */
  observe(roomId: string, event: RoomEventName, data: RoomEvent): void {
    const r = this.rooms.get(roomId);
    if (!r) return;
    if (event === 'room:deleted') {
      this.rooms.delete(roomId);
      return;
    }
    const inOrder = r.seen !== undefined && data.epoch === r.seen.epoch && data.seq === r.seen.seq + 1;
    r.seen = { epoch: data.epoch, seq: data.seq };
    if (!inOrder) return this.reset(r);
    switch (event) {
      // Nothing kept shows these: who is online and a turn's partial text are read on every join,
      // and a file's progress is no part of a snapshot.
      case 'presence':
      case 'presence:batch':
      case 'agent:delta':
      case 'tool:progress':
      case 'file:progress':
        return;
      case 'member:added':
      case 'member:updated':
      case 'member:removed': {
        const userId = event === 'member:added' ? (data as RoomEvent<'member:added'>).member.userId : (data as RoomEvent<'member:updated'>).userId;
        r.roles.delete(userId);
        r.roleGen++;
        return;
      }
      default:
        r.parts = undefined;
        r.building = undefined;
        r.partsGen++;
    }
  }

  /** A member's role, kept until an event about their membership; `read` asks the database. */
  async role(roomId: string, userId: string, read: () => Promise<MemberRole>): Promise<MemberRole> {
    const r = this.room(roomId);
    const kept = r.roles.get(userId);
    if (kept && this.now() - kept.at < this.maxAgeMs) return kept.role;
    const gen = r.roleGen;
    const role = await read();
    if (this.rooms.get(roomId) === r && r.roleGen === gen) r.roles.set(userId, { role, at: this.now() });
    return role;
  }

  /** Roles of some members (absent: not a member); only those not kept are read. */
  async roles(roomId: string, userIds: string[], read: (userIds: string[]) => Promise<Map<string, MemberRole>>): Promise<Map<string, MemberRole>> {
    const r = this.room(roomId);
    const out = new Map<string, MemberRole>();
    const missing: string[] = [];
    const t = this.now();
    for (const id of userIds) {
      const kept = r.roles.get(id);
      if (kept && t - kept.at < this.maxAgeMs) out.set(id, kept.role);
      else missing.push(id);
    }
    if (!missing.length) return out;
    const gen = r.roleGen;
    const read_ = await read(missing);
    const keep = this.rooms.get(roomId) === r && r.roleGen === gen;
    for (const [id, role] of read_) {
      out.set(id, role);
      if (keep) r.roles.set(id, { role, at: this.now() });
    }
    return out;
  }

  /**
   * The room's kept snapshot parts for a join at `at`, or `build()`'s (kept when no event changed
   * them meanwhile). Kept parts serve a join only when this node saw the room's stream in order up
   * to `at`: they then reflect every event up to it.
   */
  async parts(roomId: string, at: StreamPosition, build: () => Promise<T>): Promise<T> {
    const r = this.room(roomId);
    const seen = r.seen;
    const followed = seen !== undefined && seen.epoch === at.epoch && seen.seq >= at.seq;
    if (followed && r.parts && this.now() - r.parts.at < this.maxAgeMs) return r.parts.value;
    if (!followed) {
      // Unseen events (this node just began to follow the room): what is kept may miss them; from
      // the join point on, the relay hands over every event in order.
      if (seen === undefined || seen.epoch !== at.epoch || seen.seq < at.seq) {
        r.seen = { ...at };
        this.reset(r);
      }
    }
    // A read begun since the last change serves this join too: no event changed the parts since.
    if (r.building && r.building.gen === r.partsGen) return r.building.value;
    const gen = r.partsGen;
    const building = { gen, value: build() };
    r.building = building;
    try {
      const value = await building.value;
      if (this.rooms.get(roomId) === r && r.partsGen === gen) r.parts = { value, at: this.now() };
      return value;
    } finally {
      if (r.building === building) r.building = undefined;
    }
  }

  /** Changes whenever a kept role of the room may have gone stale (an event about a membership, a break in the stream). */
  roleMark(roomId: string): number {
    return this.room(roomId).roleGen;
  }

  forget(roomId: string): void {
    this.rooms.delete(roomId);
  }

  private reset(r: RoomState<T>): void {
    r.parts = undefined;
    r.building = undefined;
    r.partsGen++;
    r.roles.clear();
    r.roleGen++;
  }

  private room(roomId: string): RoomState<T> {
    let r = this.rooms.get(roomId);
    if (!r) {
      if (this.rooms.size >= this.maxRooms) this.rooms.delete(this.rooms.keys().next().value!);
      this.rooms.set(roomId, (r = { seen: undefined, roles: new Map(), roleGen: 0, parts: undefined, partsGen: 0 }));
    }
    return r;
  }
}

interface RoomState<T> {
  /** The last event of the room this node saw (undefined: none yet). */
  seen: StreamPosition | undefined;
  roles: Map<string, { role: MemberRole; at: number }>;
  roleGen: number;
  parts: { value: T; at: number } | undefined;
  partsGen: number;
  /** A read of the parts under way, begun at generation `gen`. */
  building?: { gen: number; value: Promise<T> };
}
