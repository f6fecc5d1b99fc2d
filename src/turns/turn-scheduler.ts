import { randomUUID } from 'node:crypto';
import type { Logger } from '../shared/logger';
import type { TurnRef, TurnRepository } from './turn-repository';

export interface SchedulerOptions {
  /** How often a running turn proves its node is alive. */
  heartbeatMs: number;
  /** A running turn whose heartbeat is older than this belonged to a node that died. */
  staleAfterMs: number;
  /** How often every node looks for stale running turns and orphaned queued ones. */
  sweepMs: number;
  /** Embedded mode has one node: every `running` turn found at start was left by a crash. */
  singleNode: boolean;
}

/** Points in a session's loop where a test can act at an exact moment instead of racing it. */
export interface SchedulerProbes {
  /** After the loop's claim found nothing, before it decides whether to stop. */
  afterEmptyClaim?(sessionId: string): Promise<void>;
}

/** A session's claim-and-run loop on this node. */
interface SessionLoop {
  /** Set by a kick that arrived while the loop ran: its last claim may have missed that turn. */
  again: boolean;
  done: Promise<void>;
}

/**
 * One running turn per session, first in first out, across all nodes. Claiming takes a
 * transaction-scoped advisory lock on the session, so two nodes cannot both start a turn of one
 * session; different sessions run in parallel. The node that ends a turn claims the next one; a
 * sweep picks up turns orphaned by a node that died (stale heartbeat → `interrupted`).
 */
export class TurnScheduler {
  readonly runnerId = randomUUID();
  private readonly loops = new Map<string, SessionLoop>();
  private sweepTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly repo: TurnRepository,
    private readonly opts: SchedulerOptions,
    private readonly hooks: {
      run(turn: TurnRef): Promise<void>;
      interrupted(turn: TurnRef): Promise<void>;
    },
    private readonly logger: Logger,
    private readonly probes: SchedulerProbes = {},
  ) {}

  /** Marks turns left running by a crash as interrupted, then starts heartbeats and the sweep. */
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
      const claimed = await this.repo.claimNext(sessionId, this.runnerId);
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

  private async heartbeat(): Promise<void> {
    if (this.closed || this.loops.size === 0) return;
    try {
      await this.repo.heartbeat(this.runnerId);
    } catch (err) {
      this.logger.warn('turn heartbeat failed', { err });
    }
  }

  /**
   * Interrupts running turns whose node is gone (all of them at an embedded start), announces
   * them, and kicks sessions that have queued turns but nothing running.
   */
  async sweep(allRunning: boolean): Promise<void> {
    if (this.closed) return;
    try {
      const stale = await this.repo.interruptStale(allRunning, this.opts.staleAfterMs, this.runnerId);
      for (const t of stale) {
        await this.hooks.interrupted(t).catch((err) => this.logger.warn('announcing an interrupted turn failed', { err }));
      }
      for (const sessionId of await this.repo.sessionsWaiting()) this.kick(sessionId);
    } catch (err) {
      this.logger.warn('turn sweep failed', { err });
    }
  }

  /**
   * Stops claiming and waits for the turns running here to finish; past `graceMs`, `onGraceOver`
   * runs (the caller cancels them, and they still commit and end). Heartbeats go on meanwhile.
   */
  async close(graceMs = 0, onGraceOver: () => void = () => undefined): Promise<void> {
    this.closed = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    const all = Promise.allSettled([...this.loops.values()].map((l) => l.done));
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
