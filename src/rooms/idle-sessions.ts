import type { Em } from '../db/orm';
import { AppError } from '../shared/errors';

/**
 * Inside a transaction that deletes sessions: takes each session's turn lock (the advisory lock a
 * claim takes, src/turns/turn-repository.ts) and refuses with SESSION_BUSY, naming the turn, when
 * one of them runs. No turn can start in them until the transaction ends, and a claim that waited
 * finds its turn gone. Waiting turns are deleted with their session.
 */
export async function requireNoRunningTurn(em: Em, sessionIds: string[]): Promise<void> {
  if (!sessionIds.length) return;
  const conn = em.getConnection();
  const trx = em.getTransactionContext();
  // One order for every caller, so two deletes never wait on each other's locks.
  for (const id of [...sessionIds].sort()) {
    await conn.execute('select pg_advisory_xact_lock(hashtextextended(?, 0))', [`turns:${id}`], 'all', trx);
  }
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
