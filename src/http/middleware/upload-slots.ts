import type { RequestHandler } from 'express';
import { AppError } from '../../shared/errors';
import { currentUser } from './auth';

/**
 * Upload bodies being received on this node, per user and in all. Each one holds a connection, a
 * file descriptor and a staging file until it ends: the caps keep a few users (or slow clients)
 * from taking them all. Counted per node, because that is where those resources are.
 */
export class UploadSlots {
  private readonly perUser = new Map<string, number>();
  private total = 0;

  constructor(private readonly limits: { perUser: number; total: number }) {}

  /** Takes a slot for `userId`, or throws UPLOAD_BUSY (429). The returned function gives it back; calling it again does nothing. */
  acquire(userId: string): () => void {
    const mine = this.perUser.get(userId) ?? 0;
    if (mine >= this.limits.perUser) {
      throw new AppError('UPLOAD_BUSY', `At most ${this.limits.perUser} uploads at a time per user; retry when one has finished`, {
        scope: 'user',
        limit: this.limits.perUser,
      });
    }
    if (this.total >= this.limits.total) {
      throw new AppError('UPLOAD_BUSY', 'The server is receiving too many uploads; retry shortly', { scope: 'server', limit: this.limits.total });
    }
    this.perUser.set(userId, mine + 1);
    this.total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.perUser.get(userId) ?? 1) - 1;
      if (left > 0) this.perUser.set(userId, left);
      else this.perUser.delete(userId);
    };
  }

  /** Uploads in progress now (for tests and metrics). */
  get inProgress(): number {
    return this.total;
  }
}

/** Holds one upload slot for the caller until the response is over (sent, or the connection closed). */
export function uploadSlot(slots: UploadSlots): RequestHandler {
  return (req, res, next) => {
    const release = slots.acquire(currentUser(req).id);
    res.once('close', release);
    next();
  };
}
