import type { ErrorBody } from '../contract/dto';
import type { Usage } from '../contract/events';
import type { Message, TurnStatus } from '../db/entities';
import { isTransientDbError } from '../db/transient-error';
import type { Broadcaster } from '../events/broadcaster';
import { presentMessage } from '../rooms/presenters';
import type { Logger } from '../shared/logger';
import { retry } from '../shared/retry';
import type { FoundTurn, OutboxRepository } from './outbox-repository';
import type { FinalStatus } from './turn-outcome';
import type { TurnsInHand } from './turns-in-hand';

export interface TurnAnnouncerDeps {
  outbox: OutboxRepository;
  broadcaster: Broadcaster;
  inHand: TurnsInHand;
  /** Aborted at shutdown: retries stop there, and what is left is the sweep's. */
  stopping: AbortSignal;
  staleAfterMs: number;
  logger: Logger;
}

/** What the intake holds of a turn it just committed, enough to announce it. */
export interface KnownQueued {
  roomId: string;
  sessionId: string;
  message: Message;
  /** The session's turns running or waiting ahead of it. */
  position: number;
}

/** What a turn's own commit just stored, enough to announce its end. */
export interface KnownEnd {
  roomId: string;
  sessionId: string;
  status: FinalStatus;
  error?: ErrorBody;
  /** Summed from the charged model calls it committed. */
  usage: Usage;
  /** Summed from its manager and summary calls. */
  infrastructureUsage: Usage;
  notices: Message[];
}

/** A stored `"CODE: message"` error as the wire's error body. */
export function errorOf(status: TurnStatus, stored: string | null): ErrorBody | undefined {
  if (!stored) return undefined;
  const m = /^([A-Z][A-Z0-9_]*): ([\s\S]*)$/.exec(stored);
  if (m) return { code: m[1]!, message: m[2]! };
  return { code: status === 'interrupted' ? 'TURN_INTERRUPTED' : 'TURN_FAILED', message: stored };
}

/**
 * The outbox's sending side. A turn's announcements are read from what is committed, published,
 * then marked as sent (`queue_announced_at`, `end_announced_at`), the mark retried until stored:
 * the database says what went out, and the sweep sends what did not. While this node announces a
 * turn it holds it (heartbeat), so no other node's sweep sends it a second time.
 */
export class TurnAnnouncer {
  constructor(private readonly d: TurnAnnouncerDeps) {}

  /**
   * `message:created` and `turn:queued` of an accepted message, once. The intake that just
   * committed the turn passes what it holds (`known`): nothing is read back. Without it (a repeated
   * send, a sweep's take-over, an edit's re-run), the turn and its message are read as committed.
   */
  async announceQueued(turnId: string, known?: KnownQueued): Promise<void> {
    const release = this.d.inHand.hold(turnId);
    try {
      if (known) {
        await this.d.broadcaster.publish(known.roomId, 'message:created', { message: presentMessage(known.message) });
        await this.d.broadcaster.publish(known.roomId, 'turn:queued', { turnId, sessionId: known.sessionId, messageId: known.message.id, position: known.position });
        await this.store(() => this.d.outbox.markQueueAnnounced(turnId));
        return;
      }
      const rec = await this.read(() => this.d.outbox.queuedRecord(turnId));
      if (!rec || rec.announced) return;
      // A turn that answers an existing message brings none of its own.
      const messageId = rec.answers ?? rec.message?.id;
      if (!messageId) return;
      if (!rec.answers && rec.message) await this.d.broadcaster.publish(rec.roomId, 'message:created', { message: presentMessage(rec.message) });
      const position = await this.read(() => this.d.outbox.queuePosition(rec.sessionId, turnId));
      await this.d.broadcaster.publish(rec.roomId, 'turn:queued', { turnId, sessionId: rec.sessionId, messageId, position });
      await this.store(() => this.d.outbox.markQueueAnnounced(turnId));
    } finally {
      release();
    }
  }

  /**
   * `turn:end` with the status the database holds, once; before it, the turn's system notices,
   * and its message if that never went out. Nothing while the turn is queued or running. The
   * executor whose commit just answered passes what it stored (`known`): nothing is read back.
   */
  async announceEnd(turnId: string, known?: KnownEnd): Promise<void> {
    const release = this.d.inHand.hold(turnId);
    try {
      if (known) {
        // Its commit just answered, and a claimed turn's queue announcement went out before it started.
        for (const m of known.notices) await this.d.broadcaster.publish(known.roomId, 'message:created', { message: presentMessage(m) });
        await this.d.broadcaster.publish(known.roomId, 'turn:end', {
          turnId,
          sessionId: known.sessionId,
          status: known.status,
          ...(known.error ? { error: known.error } : {}),
          usage: known.usage,
          infrastructureUsage: known.infrastructureUsage,
        });
        await this.store(() => this.d.outbox.markEndAnnounced(turnId));
        return;
      }
      const rec = await this.read(() => this.d.outbox.endRecord(turnId));
      if (!rec || rec.endAnnounced || rec.status === 'queued' || rec.status === 'running') return;
      if (!rec.queueAnnounced) await this.announceQueued(turnId);
      for (const m of rec.notices) await this.d.broadcaster.publish(rec.roomId, 'message:created', { message: presentMessage(m) });
      const error = errorOf(rec.status, rec.error);
      await this.d.broadcaster.publish(rec.roomId, 'turn:end', {
        turnId,
        sessionId: rec.sessionId,
        status: rec.status,
        ...(error ? { error } : {}),
        usage: rec.usage,
        infrastructureUsage: rec.infrastructureUsage,
      });
      await this.store(() => this.d.outbox.markEndAnnounced(turnId));
    } finally {
      release();
    }
  }

  /**
   * Takes over a turn not announced yet, when nobody else works on it (or every turn counts: an
   * embedded start), and announces it. Null when it is not this node's to announce.
   */
  async takeOver(turnId: string, all: boolean): Promise<FoundTurn | null> {
    const release = this.d.inHand.holdIfFree(turnId);
    if (!release) return null;
    try {
      const taken = await this.read(() => this.d.outbox.takeOver(turnId, all, this.d.staleAfterMs));
      if (!taken) return null;
      if (taken.status === 'queued') await this.announceQueued(turnId);
      else await this.announceEnd(turnId);
      return taken;
    } finally {
      release();
    }
  }

  /** A read that decides what to publish: tried again while the database is unreachable. */
  private read<T>(fn: () => Promise<T>): Promise<T> {
    return retry(fn, {
      retryable: isTransientDbError,
      signal: this.d.stopping,
      onRetry: (err, attempt) => this.d.logger.debug('reading a turn to announce failed; trying again', { attempt, err }),
    });
  }

  /** A mark after a publish: stored whatever the connection does, or the sweep would send it again. */
  private store(fn: () => Promise<void>): Promise<void> {
    return retry(fn, {
      retryable: isTransientDbError,
      signal: this.d.stopping,
      onRetry: (err, attempt) => this.d.logger.warn('storing an announcement mark failed; trying again', { attempt, err }),
    });
  }
}
