import type { Logger } from '../shared/logger';
import type { OutboxRepository } from './outbox-repository';
import type { TurnAnnouncer } from './turn-announcer';
import type { TurnsInHand } from './turns-in-hand';

export interface TurnSweepDeps {
  outbox: OutboxRepository;
  announcer: TurnAnnouncer;
  inHand: TurnsInHand;
  staleAfterMs: number;
  /** Starts a session's next queued turn. */
  kick: (sessionId: string) => void;
  logger: Logger;
}

/**
 * What every node does periodically so that nothing waits on a node that died or gave up:
 * running turns nobody works on become `interrupted`; what is committed but was never announced
 * is announced (a node's own leftovers at once, another node's once its heartbeat is stale); and
 * sessions with queued turns and nothing running are kicked.
 */
export class TurnSweep {
  private current: Promise<void> | null = null;

  constructor(private readonly d: TurnSweepDeps) {}

  /** One sweep at a time per node; `all` (an embedded start) treats every turn as abandoned. */
  sweep(all: boolean): Promise<void> {
    this.current ??= this.run(all).finally(() => (this.current = null));
    return this.current;
  }

  private async run(all: boolean): Promise<void> {
    const { outbox, announcer, inHand, logger } = this.d;
    // Before interrupting: a turn waiting for a tool approval is run again, not lost. Its session
    // is kicked by the last step, after the interrupting one (which, at an embedded start, would
    // take a turn claimed in between for a leftover).
    await this.step('requeueing turns waiting for an approval', async () => {
      for (const t of await outbox.requeueAwaitingApproval(all, this.d.staleAfterMs)) {
        logger.info('turn waiting for a tool approval runs again', { turnId: t.turnId });
      }
    });
    await this.step('interrupting abandoned turns', async () => {
      const interrupted = await outbox.interruptAbandoned(all, this.d.staleAfterMs);
      // Taken over with a fresh heartbeat: held from now on, until announced.
      const held = interrupted.map((t) => inHand.hold(t.turnId));
      for (const [i, t] of interrupted.entries()) {
        await announcer.announceEnd(t.turnId).catch((err) => logger.warn('announcing an interrupted turn failed', { turnId: t.turnId, err }));
        held[i]!();
      }
    });
    await this.step('announcing what was not announced', async () => {
      for (const t of await outbox.unannounced(all, this.d.staleAfterMs)) {
        if (inHand.has(t.turnId)) continue;
        const taken = await announcer.takeOver(t.turnId, all).catch((err) => {
          logger.warn('announcing a turn left unannounced failed', { turnId: t.turnId, err });
          return null;
        });
        if (taken?.status === 'queued') this.d.kick(taken.sessionId);
      }
    });
    await this.step('kicking waiting sessions', async () => {
      for (const sessionId of await outbox.sessionsWaiting()) this.d.kick(sessionId);
    });
  }

  /** A step that fails leaves the others to run; the next sweep tries it again. */
  private async step(what: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.d.logger.warn(`turn sweep: ${what} failed`, { err });
    }
  }
}
