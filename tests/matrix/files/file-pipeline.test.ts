import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoredFile } from '../../../src/db/entities';
import { loadConfig } from '../../../src/config/config';
import type { Orm } from '../../../src/db/orm';
import { createFilePipeline } from '../../../src/files/file-pipeline';
import { createLogger } from '../../../src/shared/logger';
import { sampleDocx, threePagePdf } from '../../helpers/file-fixtures';
import { testDb } from '../../helpers/test-app';
import { newRoom, openTestOrm } from './db-kit';
import { RecordingBroadcaster } from './recording-broadcaster';

describe(`embedded file pipeline on ${testDb()}`, () => {
  let orm: Orm;
  let dataDir: string;
  let closeDb: () => Promise<void>;

  beforeAll(async () => {
    const db = await openTestOrm();
    ({ orm, dataDir } = db);
    closeDb = db.close;
  });
  afterAll(async () => closeDb?.());

  const embedded = (broadcaster: RecordingBroadcaster) =>
    createFilePipeline({
      config: loadConfig({ DATA_DIR: dataDir, MAX_UPLOAD_BYTES: '1000000' }),
      orm,
      broadcaster,
      logger: createLogger('silent'),
      role: 'embedded',
    });

  it('parses an upload in process and reports it ready', async () => {
    const broadcaster = new RecordingBroadcaster();
    const pipeline = await embedded(broadcaster);
    try {
      const { roomId, userId } = await newRoom(orm);
      const file = await pipeline.upload({ roomId, userId, filename: '../minutes.docx', bytes: sampleDocx() });
      expect(file).toMatchObject({ filename: 'minutes.docx', kind: 'docx', status: 'queued' });
      await broadcaster.finished(file.id);
      expect(broadcaster.trail(file.id).at(-1)).toEqual(['file:ready']);
      const row = await orm.em.fork().findOneOrFail(StoredFile, { id: file.id });
      expect(row.parsed?.pages?.[0]?.text).toContain('Region | Revenue | Growth');
      await expect(pipeline.health()).resolves.toBeUndefined();
    } finally {
      await pipeline.close();
    }
  });

  it('picks up files an earlier process left queued or parsing', async () => {
    // A first process accepts an upload and stops before parsing it.
    const idle = await embedded(new RecordingBroadcaster());
    await idle.close();
    const { roomId, userId } = await newRoom(orm);
    await expect(idle.upload({ roomId, userId, filename: 'late.pdf', bytes: threePagePdf() })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    const em = orm.em.fork();
    const left = em.create(StoredFile, {
      room: roomId,
      filename: 'left.pdf',
      kind: 'pdf',
      mime: 'application/pdf',
      sizeBytes: threePagePdf().length,
      sha256: (await idle.store.put(threePagePdf())).sha256,
      status: 'parsing',
    });
    await em.flush();

    // The next process finds it at start.
    const broadcaster = new RecordingBroadcaster();
    const pipeline = await embedded(broadcaster);
    try {
      await broadcaster.finished(left.id);
      expect(await orm.em.fork().findOneOrFail(StoredFile, { id: left.id })).toMatchObject({ status: 'ready' });
    } finally {
      await pipeline.close();
    }
  });
});
