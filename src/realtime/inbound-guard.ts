import type { AppConfig } from '../config/config';
import { AppError } from '../shared/errors';
import type { AppSocket } from './context';

/** The budget's window: events are counted per second. */
const WINDOW_MS = 1000;

/**
 * What one member may cost this node: a budget of inbound events a second per socket and per
 * user (over all their sockets here), a run of invalid events that drops the socket, and a cap on
 * sockets per user. Node-local on purpose: it protects this node's event loop, and costs no
 * network round trip per event.
 *
 * The budget is a fixed one-second window shared by every socket and user: two counts by key
 * (the socket's id, the user's id), dropped together when the next window begins. A socket that
 * sent an event keeps no record, timer or closure of its own, as a per-key limiter would for each
 * key until it expires.
 */
export class InboundGuard {
  private windowEnds = 0;
  private readonly perSocket = new Map<string, number>();
  private readonly perUser = new Map<string, number>();
  /** Invalid events in a row, per socket. */
  private readonly invalidRun = new WeakMap<AppSocket, number>();
  private readonly socketsOf = new Map<string, number>();

  constructor(private readonly limits: AppConfig['limits']) {}

  /** Spends one event of the socket's and the user's budget, or throws RATE_LIMITED. */
  async admit(socket: AppSocket): Promise<void> {
    const now = Date.now();
    if (now >= this.windowEnds) {
      this.windowEnds = now + WINDOW_MS;
      this.perSocket.clear();
      this.perUser.clear();
    }
    // As before with a limiter per key: an event refused by the socket's budget does not spend the user's.
    if (!spend(this.perSocket, socket.id, this.limits.socketEventsPerSecond) || !spend(this.perUser, socket.data.userId, this.limits.userEventsPerSecond)) {
      const retryAfterSeconds = Math.max(1, Math.ceil((this.windowEnds - now) / 1000));
      throw new AppError('RATE_LIMITED', `Too many events; retry in ${retryAfterSeconds}s`, { retryAfterSeconds });
    }
  }

  /** Records an invalid event; true when the run is long enough to drop the socket. */
  invalid(socket: AppSocket): boolean {
    const run = (this.invalidRun.get(socket) ?? 0) + 1;
    this.invalidRun.set(socket, run);
    return run >= this.limits.invalidSocketEvents;
  }

  valid(socket: AppSocket): void {
    if (this.invalidRun.has(socket)) this.invalidRun.delete(socket);
  }

  /** Counts a new socket of the user (by token subject); throws TOO_MANY_CONNECTIONS past the cap. */
  connect(sub: string): void {
    const n = this.socketsOf.get(sub) ?? 0;
    if (n >= this.limits.socketsPerUser) {
      throw new AppError('TOO_MANY_CONNECTIONS', `At most ${this.limits.socketsPerUser} connections per user`, {
        max: this.limits.socketsPerUser,
      });
    }
    this.socketsOf.set(sub, n + 1);
  }

  disconnect(sub: string): void {
    const n = (this.socketsOf.get(sub) ?? 1) - 1;
    if (n <= 0) this.socketsOf.delete(sub);
    else this.socketsOf.set(sub, n);
  }
}

/** Counts one event of `key`; false once the count is past `max` (the count keeps growing, as a limiter's does). */
function spend(counts: Map<string, number>, key: string, max: number): boolean {
  const n = (counts.get(key) ?? 0) + 1;
  counts.set(key, n);
  return n <= max;
}
