import { StoredFile } from '../../db/entities/file';
import type { Orm } from '../../db/orm';
import type { JobQueue } from './job-queue';

/**
 * Enqueues every file still queued or parsing. Run at start: the in-process queue forgets its
 * jobs with the process, and a BullMQ job may have been lost before it was added. Safe to run
 * anywhere, any time: the job id is the file id, and the processor skips finished files.
 */
export async function requeueUnfinishedFiles(orm: Orm, queue: JobQueue, opts: { batchSize?: number } = {}): Promise<number> {
  const em = orm.em.fork();
  const batchSize = opts.batchSize ?? 500;
  let count = 0;
  let after = '';
  for (;;) {
    const batch = await em.find(
      StoredFile,
      { status: { $in: ['queued', 'parsing'] }, id: { $gt: after || '00000000-0000-0000-0000-000000000000' } },
      { fields: ['id', 'room'], orderBy: { id: 'asc' }, limit: batchSize },
    );
    for (const file of batch) await queue.enqueue({ fileId: file.id, roomId: file.room.id });
    count += batch.length;
    if (batch.length < batchSize) return count;
    after = batch.at(-1)!.id;
  }
}
