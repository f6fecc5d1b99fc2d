import type { ErrorBody } from '../contract/dto';
import type { Message } from '../db/entities';
import { isTransientDbError } from '../db/transient-error';
import type { Logger } from '../shared/logger';
import { backoffMs, pause, retry } from '../shared/retry';
import type { CommittedTurn, TurnCommit, TurnRepository } from './turn-repository';

/**
 * What the database holds once a turn tried to store its outcome:
 * - `stored`: the turn's own outcome (its commit, or `failed` when the commit was refused);
 * - `taken`: another node's sweep interrupted the turn first; that node announces it;
 * - `gone`: the turn's row no longer exists (its session was deleted);
 * - `abandoned`: shutdown came first; the turn stays `running` until a sweep interrupts it.
 */
export type Settled = 'stored' | 'taken' | 'gone' | 'abandoned';

export interface TurnSettlementDeps {
  repo: TurnRepository;
  /** Aborted at shutdown: the only point where storing a turn's outcome gives up. */
  stopping: AbortSignal;
  logger: Logger;
}

/**
 * Stores a turn's outcome whatever the connection does. A commit that fails may still have
 * happened (the connection dropped after PostgreSQL received COMMIT), so nothing is decided from
 * the error: the turn is read back first, and the commit is tried again only if it did not happen.
 */
export class TurnSettlement {
  constructor(private readonly d: TurnSettlementDeps) {}

  /**
   * The turn's one commit (docs/transaction_policy.md), until stored. `notices` (the system
   * messages it wrote) comes only with a commit that answered: then the database holds exactly
   * what the caller staged, and its end can be announced without reading it back.
   */
  async commit(turnId: string, c: TurnCommit): Promise<{ settled: Settled; notices?: Message[]; roomLedger?: CommittedTurn['roomLedger'] }> {
    for (let attempt = 1; ; attempt++) {
      try {
        const done = await this.d.repo.commitTurn(turnId, c);
        return { settled: 'stored', notices: done.notices, roomLedger: done.roomLedger };
      } catch (err) {
        const now = await this.readBack(turnId);
        if (now !== 'running') {
          if (now === 'stored') this.d.logger.warn('turn commit reported an error but was stored', { turnId, err });
          return { settled: now };
        }
        if (!isTransientDbError(err)) {
          // The commit itself is refused (bad data, a constraint): trying it again cannot help.
          this.d.logger.error('turn commit failed', { turnId, err });
          return { settled: await this.fail(turnId, { code: 'COMMIT_FAILED', message: 'The turn could not be saved' }) };
        }
        this.d.logger.warn('turn commit did not happen; trying again', { turnId, attempt, err });
        if (!(await pause(backoffMs(attempt), this.d.stopping))) return { settled: 'abandoned' };
      }
    }
  }

  /** Marks a running turn `failed` (it could not start, or its commit is refused), until stored. */
  async fail(turnId: string, error: ErrorBody): Promise<Settled> {
    try {
      await retry(() => this.d.repo.markTurnFailed(turnId, error), {
        retryable: isTransientDbError,
        signal: this.d.stopping,
        onRetry: (err, attempt) => this.d.logger.warn('storing a failed turn failed; trying again', { turnId, attempt, err }),
      });
    } catch (err) {
      if (isTransientDbError(err)) return 'abandoned';
      throw err;
    }
    const now = await this.readBack(turnId);
    // A stored mark leaves the turn anything but running; left running, a sweep decides.
    return now === 'running' ? 'abandoned' : now;
  }

  /**
   * The turn's status as stored, once the transaction that may still hold its row has ended
   * (the read takes the row lock). `running` means the commit did not happen.
   */
  private async readBack(turnId: string): Promise<Settled | 'running'> {
    let status;
    try {
      status = await retry(() => this.d.repo.lockedStatus(turnId), { retryable: isTransientDbError, signal: this.d.stopping });
    } catch (err) {
      if (isTransientDbError(err)) return 'abandoned';
      throw err;
    }
    if (status === null) return 'gone';
    if (status === 'running') return 'running';
    // This node never stores `interrupted`: a sweep did, and announces it.
    return status === 'interrupted' ? 'taken' : 'stored';
  }
}
