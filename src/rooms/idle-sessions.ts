import type { Em } from '../db/orm';
import { AppError } from '../shared/errors';

/**
 * Inside a transaction that deletes sessions: locks the sessions' rows (`for update`; a claim holds
 * its session's row `for key share` while it starts a turn, src/turns/turn-repository.ts, and a new
 * turn's insert checks its session the same way) and refuses with SESSION_BUSY, naming the turn,
 * when one of them runs. No turn can start or be queued in them until the transaction ends, and a
 * claim that waited finds its session gone. Waiting turns are deleted with their session.
 */
export async function requireNoRunningTurn(em: Em, sessionIds: string[]): Promise<void> {
  if (!sessionIds.length) return;
  const conn = em.getConnection();
  const trx = em.getTransactionContext();
  // One order for every caller, so two deletes never wait on each other's locks.
  await conn.execute(
    `select "id" from "sessions" where "id" in (${sessionIds.map(() => '?').join(', ')}) order by "id" for update`,
    sessionIds,
    'all',
    trx,
  );
  const running = await conn.execute<{ id: string; session_id: string }[]>(
    `select "id", "session_id" from "turns" where "session_id" in (${sessionIds.map(() => '?').join(', ')}) and "status" = 'running' limit 1`,
    sessionIds,
    'all',
    trx,
  );
  const turn = running[0];
  if (turn) {
    throw new AppError('SESSION_BUSY', `Turn ${turn.id} is running in this session; cancel it (turn:cancel) and try again once it has ended`, {
      turnId: turn.id,
      sessionId: turn.session_id,
    });
  }
}
