import type { Em } from '../db/orm';
import { Message } from '../db/entities';

// Versions of an agent's answer: the first version is the row others name in `version_of_id`.

/** The latest later version of each of these first versions, by the first version's id (only those regenerated). */
export async function latestVersions(em: Em, firstIds: string[]): Promise<Map<string, Message>> {
  const out = new Map<string, Message>();
  if (!firstIds.length) return out;
  const rows = await em.find(Message, { versionOf: { $in: firstIds } }, { orderBy: [{ version: 'asc' }] });
  for (const r of rows) out.set(r.versionOf!.id, r);
  return out;
}

/** The number the next version of an answer (by its first version's id) takes. */
export async function nextVersion(em: Em, firstId: string): Promise<number> {
  const rows = await em
    .getConnection()
    .execute<{ v: number | string | null }[]>(
      `select max("version") as v from "messages" where "id" = ? or "version_of_id" = ?`,
      [firstId, firstId],
      'all',
      em.getTransactionContext(),
    );
  return Number(rows[0]?.v ?? 1) + 1;
}
