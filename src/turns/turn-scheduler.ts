import { randomUUID } from 'node:crypto';
import type { Orm } from '../db/orm';
import type { Logger } from '../shared/logger';

export interface ClaimedTurn {
  turnId: string;
  sessionId: string;
  roomId: string;
}

export interface StaleTurn {
  turnId: string;
  sessionId: string;
  roomId: string;
}

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

/**
 * One running turn per session, first in first out, across all nodes. Claiming takes a
 * transaction-scoped advisory lock on the session, so two nodes cannot both start a turn of one
 * session; different sessions run in parallel. The node that ends a turn claims the next one; a
 * sweep picks up turns orphaned by a node that died (stale heartbeat → `interrupted`).
 */
export class TurnScheduler {
  readonly runnerId = randomUUID();
  private readonly running = new Map<string, Promise<void>>();
  private sweepTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly orm: Orm,
    private readonly opts: SchedulerOptions,
    private readonly hooks: {
      run(turn: ClaimedTurn): Promise<void>;
      interrupted(turn: StaleTurn): Promise<void>;
    },
    private readonly logger: Logger,
  ) {}

  /** Marks turns left running by a crash as interrupted, then starts heartbeats and the sweep. */
  async start(): Promise<void> {
    await this.sweep(this.opts.singleNode);
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), this.opts.heartbeatMs);
    this.sweepTimer = setInterval(() => void this.sweep(false), this.opts.sweepMs);
    this.heartbeatTimer.unref();
    this.sweepTimer.unref();
  }

  /** Tries to start the session's next queued turn here; a no-op when one is running anywhere. */
  kick(sessionId: string): void {
    if (this.closed || this.running.has(sessionId)) return;
    const p = this.claimAndRun(sessionId)
      .catch((err) => this.logger.error('turn scheduling failed', { sessionId, err }))
      .finally(() => {
        if (this.running.get(sessionId) === p) this.running.delete(sessionId);
      });
    this.running.set(sessionId, p);
  }

  private async claimAndRun(sessionId: string): Promise<void> {
    for (;;) {
      if (this.closed) return;
      const claimed = await this.claim(sessionId);
      if (!claimed) return;
      try {
        await this.hooks.run(claimed);
      } catch (err) {
        this.logger.error('turn run failed', { turnId: claimed.turnId, err });
      }
    }
  }

  private async claim(sessionId: string): Promise<ClaimedTurn | null> {
    const em = this.orm.em.fork();
    return em.transactional(async (tx) => {
      const conn = tx.getConnection();
      const trx = tx.getTransactionContext();
      await conn.execute('select pg_advisory_xact_lock(hashtextextended(?, 0))', [`turns:${sessionId}`], 'all', trx);
      const running = await conn.execute<{ id: string }[]>(
        `select "id" from "turns" where "session_id" = ? and "status" = 'running' limit 1`,
        [sessionId],
        'all',
        trx,
      );
      if (running.length) return null;
      const rows = await conn.execute<{ id: string; room_id: string }[]>(
        `update "turns" set "status" = 'running', "started_at" = clock_timestamp(), "heartbeat_at" = clock_timestamp(), "runner_id" = ?
          where "id" = (select "id" from "turns" where "session_id" = ? and "status" = 'queued' order by "queued_at", "id" limit 1)
          returning "id", "room_id"`,
        [this.runnerId, sessionId],
        'all',
        trx,
      );
      const row = rows[0];
      return row ? { turnId: row.id, sessionId, roomId: row.room_id } : null;
    });
  }

  private async heartbeat(): Promise<void> {
    if (this.closed || this.running.size === 0) return;
    try {
      await this.orm.em
        .fork()
        .getConnection()
        .execute(`update "turns" set "heartbeat_at" = clock_timestamp() where "runner_id" = ? and "status" = 'running'`, [this.runnerId]);
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
      const conn = this.orm.em.fork().getConnection();
      const stale = await conn.execute<{ id: string; session_id: string; room_id: string }[]>(
        `update "turns" set "status" = 'interrupted', "ended_at" = clock_timestamp(), "error" = 'the server running this turn stopped'
          where "status" = 'running' and (? or "heartbeat_at" is null or "heartbeat_at" < clock_timestamp() - (? * interval '1 millisecond'))
            and ("runner_id" is null or "runner_id" <> ?)
          returning "id", "session_id", "room_id"`,
        [allRunning, this.opts.staleAfterMs, this.runnerId],
      );
      for (const t of stale) {
        await this.hooks.interrupted({ turnId: t.id, sessionId: t.session_id, roomId: t.room_id }).catch((err) =>
          this.logger.warn('announcing an interrupted turn failed', { err }),
        );
      }
      const waiting = await conn.execute<{ session_id: string }[]>(
        `select distinct q."session_id" from "turns" q where q."status" = 'queued'
           and not exists (select 1 from "turns" r where r."session_id" = q."session_id" and r."status" = 'running')`,
      );
      for (const w of waiting) this.kick(w.session_id);
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
    const all = Promise.allSettled([...this.running.values()]);
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
