import { isTransientDbError } from '../db/transient-error';
import type { Logger } from '../shared/logger';
import { retry } from '../shared/retry';
import type { TurnRef, TurnRepository } from './turn-repository';

export interface SchedulerOptions {
  /** How often this node proves it still works on its turns. */
  heartbeatMs: number;
  /** How often every node sweeps for abandoned turns, unannounced turns and waiting sessions. */
  sweepMs: number;
  /** Embedded mode has one node: every `running` turn found at start was left by a crash. */
  singleNode: boolean;
}

/** Points in a session's loop where a test can act at an exact moment instead of racing it. */
export interface SchedulerProbes {
  /** After the loop's claim found nothing, before it decides whether to stop. */
  afterEmptyClaim?(sessionId: string): Promise<void>;
}

export interface SchedulerHooks {
  /** Runs a claimed turn to its end. */
  run(turn: TurnRef): Promise<void>;
  /** Keeps the turns this node works on from being taken over. */
  heartbeat(): Promise<void>;
  /** The periodic sweep; `all` at an embedded start. */
  sweep(all: boolean): Promise<void>;
}

/** A session's claim-and-run loop on this node. */
interface SessionLoop {
  /** Set by a kick that arrived while the loop ran: its last claim may have missed that turn. */
  again: boolean;
  done: Promise<void>;
}

/**
 * One running turn per session, first in first out, across all nodes. A claim is one statement,
 * and a unique index on a session's running turn keeps two nodes from both starting a turn of one
 * session; different sessions run in parallel. The node that ends a turn claims the next one; a
 * sweep picks up what a node that died (or gave up) left behind.
 */
export class TurnScheduler {
  private readonly loops = new Map<string, SessionLoop>();
  private sweepTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private sweeping: Promise<void> = Promise.resolve();
  private closed = false;
  /** Aborted when closing: a claim that keeps failing stops trying. */
  private readonly closing = new AbortController();

  constructor(
    private readonly repo: Pick<TurnRepository, 'claimNext'>,
    private readonly opts: SchedulerOptions,
    private readonly hooks: SchedulerHooks,
    private readonly logger: Logger,
    private readonly probes: SchedulerProbes = {},
  ) {}

  /** Sweeps once (at an embedded start, everything left running is interrupted), then starts heartbeats and the sweep. */
  async start(): Promise<void> {
    await this.sweep(this.opts.singleNode);
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), this.opts.heartbeatMs);
    this.sweepTimer = setInterval(() => void this.sweep(false), this.opts.sweepMs);
    this.heartbeatTimer.unref();
    this.sweepTimer.unref();
  }

  /**
   * Tries to start the session's next queued turn here; a no-op when one is running anywhere.
   * A kick while the session's loop runs is never dropped: the loop claims once more before it stops.
   */
  kick(sessionId: string): void {
    if (this.closed) return;
    const running = this.loops.get(sessionId);
    if (running) {
      running.again = true;
      return;
    }
    const loop: SessionLoop = { again: false, done: Promise.resolve() };
    this.loops.set(sessionId, loop);
    loop.done = this.claimAndRun(sessionId, loop)
      .catch((err) => this.logger.error('turn scheduling failed', { sessionId, err }))
      .finally(() => {
        if (this.loops.get(sessionId) === loop) this.loops.delete(sessionId);
      });
  }

  private async claimAndRun(sessionId: string, loop: SessionLoop): Promise<void> {
    for (;;) {
      if (this.closed) return;
      // Cleared before the claim: a kick from here on may concern a turn this claim does not see.
      loop.again = false;
      const claimed = await this.claim(sessionId);
      if (!claimed) {
        await this.probes.afterEmptyClaim?.(sessionId);
        if (loop.again) continue;
        // Stop in the same tick as the decision, so the next kick starts a new loop.
        this.loops.delete(sessionId);
        return;
      }
      try {
        await this.hooks.run(claimed);
      } catch (err) {
        this.logger.error('turn run failed', { turnId: claimed.turnId, err });
      }
    }
  }

  /**
   * A claim, tried again while the database is unreachable. One whose answer was lost may have
   * committed: the next attempt finds that turn running here and returns it.
   */
  private claim(sessionId: string): Promise<TurnRef | null> {
    return retry(() => this.repo.claimNext(sessionId), {
      retryable: isTransientDbError,
      signal: this.closing.signal,
      onRetry: (err, attempt) => this.logger.warn('claiming a turn failed; trying again', { sessionId, attempt, err }),
    });
  }

  private async heartbeat(): Promise<void> {
    try {
      await this.hooks.heartbeat();
    } catch (err) {
      this.logger.warn('turn heartbeat failed', { err });
    }
  }

  async sweep(all: boolean): Promise<void> {
    if (this.closed) return;
    this.sweeping = this.hooks.sweep(all).catch((err) => this.logger.warn('turn sweep failed', { err }));
    await this.sweeping;
  }

  /**
   * Stops claiming and waits for the turns running here to finish; past `graceMs`, `onGraceOver`
   * runs (the caller cancels them, and they still commit and end). Heartbeats go on meanwhile.
   */
  async close(graceMs = 0, onGraceOver: () => void = () => undefined): Promise<void> {
    this.closed = true;
    this.closing.abort();
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    const all = Promise.allSettled([...[...this.loops.values()].map((l) => l.done), this.sweeping]);
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([all.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), graceMs)))]);
    clearTimeout(timer);
    if (!finished) {
      onGraceOver();
      await all;
    }
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
  }
}
