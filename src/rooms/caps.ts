import { LockMode } from '@mikro-orm/core';
import type { Em } from '../db/orm';
import { AppError } from '../shared/errors';

/** The count caps of docs/security.md, named as `details.limit` names them. */
export type CapName = 'roomsPerUser' | 'agentsPerRoom' | 'sessionsPerRoom';

/**
 * Refuses a create once a count has reached its cap: 409 LIMIT_REACHED `{ limit, max }`. Call it
 * in the transaction that writes, after locking `owner` (the row the counted rows hang from):
 * concurrent creates then wait for each other, so the last free slot is taken only once.
 */
export async function requireBelowCap(
  em: Em,
  owner: object,
  cap: { limit: CapName; max: number; what: string },
  count: () => Promise<number>,
): Promise<void> {
  await em.lock(owner, LockMode.PESSIMISTIC_WRITE);
  if ((await count()) >= cap.max) {
    throw new AppError('LIMIT_REACHED', `At most ${cap.max} ${cap.what}`, { limit: cap.limit, max: cap.max });
  }
}
