import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { AppConfig } from '../config/config';
import { AppError } from '../shared/errors';
import type { AppSocket } from './context';

/**
 * What one member may cost this node: a budget of inbound events a second per socket and per
 * user (over all their sockets here), a run of invalid events that drops the socket, and a cap on
 * sockets per user. Node-local on purpose: it protects this node's event loop, and costs no
 * network round trip per event.
 */
export class InboundGuard {
  private readonly perSocket: RateLimiterMemory;
  private readonly perUser: RateLimiterMemory;
  /** Invalid events in a row, per socket. */
  private readonly invalidRun = new WeakMap<AppSocket, number>();
  private readonly socketsOf = new Map<string, number>();

  constructor(private readonly limits: AppConfig['limits']) {
    this.perSocket = new RateLimiterMemory({ keyPrefix: 'socket', points: limits.socketEventsPerSecond, duration: 1 });
    this.perUser = new RateLimiterMemory({ keyPrefix: 'user', points: limits.userEventsPerSecond, duration: 1 });
  }

  /** Spends one event of the socket's and the user's budget, or throws RATE_LIMITED. */
  async admit(socket: AppSocket): Promise<void> {
    try {
      await this.perSocket.consume(socket.id);
      await this.perUser.consume(socket.data.userId);
    } catch (res) {
      if (!(res instanceof RateLimiterRes)) throw res;
      const retryAfterSeconds = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
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
