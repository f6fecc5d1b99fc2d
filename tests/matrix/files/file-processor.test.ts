import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoredFile } from '../../../src/db/entities';
import type { FileKind, ParsedContent } from '../../../src/db/entities/file';
import type { Orm } from '../../../src/db/orm';
import { createFileProcessor } from '../../../src/files/parsing/file-processor';
import { DiskFileStore, type FileStore } from '../../../src/files/upload/file-store';
import { InProcessJobQueue } from '../../../src/files/queue/in-process-queue';
import type { FileJob, JobQueue } from '../../../src/files/queue/job-queue';
import { runParse, type ParseRunOptions } from '../../../src/files/parsing/parse-runner';
import type { ParseSource } from '../../../src/files/parsing/parsers/types';
import { requeueUnfinishedFiles } from '../../../src/files/queue/recover';
import { registerUpload } from '../../../src/files/upload/register-upload';
import { encryptedPdf, plainZip, quotedCsv, threePagePdf } from '../../helpers/file-fixtures';
import { testDb } from '../../helpers/test-app';
import { newRoom as roomIn, openTestOrm } from './db-kit';
import { RecordingBroadcaster } from './recording-broadcaster';

const PARSE = { timeoutMs: 20_000, memoryMb: 128, limits: { csvMaxRows: 1000, pdfMaxPages: 50 } };
const FIRST: { attempt: number; finalAttempt: boolean } = { attempt: 1, finalAttempt: false };
const LAST = { attempt: 3, finalAttempt: true };

describe(`file processor on ${testDb()}`, () => {
  let orm: Orm;
  let store: DiskFileStore;
  let closeDb: () => Promise<void>;

  beforeAll(async () => {
    const db = await openTestOrm();
    orm = db.orm;
    closeDb = db.close;
    store = DiskFileStore.forDataDir(db.dataDir);
  });
  afterAll(async () => closeDb?.());

  const newRoom = () => roomIn(orm);

  /** Counts the parses actually run, around the real worker-thread runner (or a replacement). */
  function countingParse(inner: (kind: FileKind, source: ParseSource, opts: ParseRunOptions) => Promise<ParsedContent> = runParse) {
    const fn = Object.assign(
      (kind: FileKind, source: ParseSource, opts: ParseRunOptions) => {
        fn.count++;
        return inner(kind, source, opts);
      },
      { count: 0 },
    );
    return fn;
  }

  function setup(opts: { store?: FileStore; parse?: ReturnType<typeof countingParse> } = {}) {
    const broadcaster = new RecordingBroadcaster();
    const parse = opts.parse ?? countingParse();
    const processor = createFileProcessor({ orm, store: opts.store ?? store, broadcaster, parse: PARSE, runParse: parse });
    const queue = new InProcessJobQueue({ attempts: 3, backoffMs: 10 });
    queue.process(processor.handle, { failed: (job, err, info) => void (info.final && processor.recordFailure(job, err)) });
    const upload = async (filename: string, bytes: Uint8Array, q: JobQueue = queue) => {
      const { roomId, userId } = await newRoom();
      const file = await registerUpload({ orm, store, queue: q, broadcaster, limits: { uploadBytes: 1024 * 1024 } }, { roomId, userId, filename, bytes });
      return { ...file, job: { fileId: file.id, roomId } as FileJob };
    };
    return { broadcaster, processor, queue, upload, parse };
  }

  const row = (id: string) => orm.em.fork().findOneOrFail(StoredFile, { id });

  it('parses an upload: progress events in order, then file:ready, content stored in one commit', async () => {
    const { broadcaster, upload, queue, parse } = setup();
    const file = await upload('report.pdf', threePagePdf());
    expect(file).toMatchObject({ kind: 'pdf', mime: 'application/pdf', status: 'queued', filename: 'report.pdf' });
    await broadcaster.finished(file.id);
    await queue.close();

    const trail = broadcaster.trail(file.id);
    expect(trail[0]).toEqual(['file:progress', 'queued', 0]);
    expect(trail[1]).toEqual(['file:progress', 'reading', 10]);
    expect(trail[2]).toEqual(['file:progress', 'parsing', 20]);
    expect(trail.at(-2)).toEqual(['file:progress', 'storing', 95]);
    expect(trail.at(-1)).toEqual(['file:ready']);
    const percents = trail.slice(0, -1).map((t) => t[2] as number);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(new Set(percents).size).toBe(percents.length);
    expect(broadcaster.published.at(-1)!.payload).toEqual({ fileId: file.id, filename: 'report.pdf', kind: 'pdf', status: 'ready' });

    const stored = await row(file.id);
    expect(stored.status).toBe('ready');
    expect(stored.errorCode).toBeNull();
    expect(stored.parsed?.pages?.map((p) => p.page)).toEqual([1, 2, 3]);
    expect(stored.parsed?.pages?.[1]?.text).toContain('bananas');
    expect(stored.meta).toMatchObject({ parseAttempts: 1, announced: true });
    expect(parse.count).toBe(1);
  });

  it('ends an unparseable file failed with its code, after a single parse', async () => {
    const { broadcaster, upload, queue, parse } = setup();
    const file = await upload('secret.pdf', encryptedPdf());
    await broadcaster.finished(file.id);
    await queue.close();
    expect(broadcaster.trail(file.id).at(-1)).toEqual(['file:failed', 'PDF_ENCRYPTED']);
    expect(broadcaster.published.at(-1)!.payload).toMatchObject({ fileId: file.id, filename: 'secret.pdf', code: 'PDF_ENCRYPTED' });
    const stored = await row(file.id);
    expect([stored.status, stored.errorCode, stored.parsed]).toEqual(['failed', 'PDF_ENCRYPTED', null]);
    expect(stored.errorMessage).toMatch(/password/);
    expect(parse.count).toBe(1);
  });

  it('never parses a file twice when its job is delivered again', async () => {
    const { broadcaster, upload, processor, queue, parse } = setup();
    const file = await upload('table.csv', quotedCsv());
    await broadcaster.finished(file.id);
    await queue.close();
    const before = broadcaster.published.length;
    await processor.handle(file.job, FIRST);
    await processor.handle(file.job, LAST);
    expect(parse.count).toBe(1);
    expect(broadcaster.published.length).toBe(before);
    expect((await row(file.id)).meta).toMatchObject({ parseAttempts: 1 });
  });

  it('commits and announces once when two deliveries of one file race', async () => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let bothStarted!: () => void;
    const started = new Promise<void>((r) => (bothStarted = r));
    const parse = countingParse(async (kind, bytes, opts) => {
      if (parse.count === 2) bothStarted();
      await released;
      return runParse(kind, bytes, opts);
    });
    const { broadcaster, processor, upload } = setup({ parse });
    const idle: JobQueue = { enqueue: async () => undefined, process: () => undefined, close: async () => undefined, health: async () => undefined };
    const file = await upload('race.pdf', threePagePdf(), idle);
    const both = Promise.allSettled([processor.handle(file.job, FIRST), processor.handle(file.job, FIRST)]);
    await started; // both deliveries are parsing the same file now
    release();
    const results = await both;
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    expect(broadcaster.trail(file.id).filter((t) => t[0] === 'file:ready')).toHaveLength(1);
    expect((await row(file.id)).status).toBe('ready');
  });

  it('re-sends the final event when a crash came between commit and publish', async () => {
    const { broadcaster, processor, upload } = setup();
    const idle: JobQueue = { enqueue: async () => undefined, process: () => undefined, close: async () => undefined, health: async () => undefined };
    const file = await upload('notes.csv', quotedCsv(), idle);
    broadcaster.failNext('file:ready');
    await expect(processor.handle(file.job, FIRST)).rejects.toThrow(/publishing file:ready failed/);
    expect((await row(file.id))).toMatchObject({ status: 'ready', meta: { announced: false } });
    expect(broadcaster.trail(file.id).filter((t) => t[0] === 'file:ready')).toHaveLength(0);

    await processor.handle(file.job, { attempt: 2, finalAttempt: false });
    expect(broadcaster.trail(file.id).filter((t) => t[0] === 'file:ready')).toHaveLength(1);
    expect((await row(file.id)).meta).toMatchObject({ announced: true, parseAttempts: 1 });
  });

  it('leaves a transient failure to the queue, and records PROCESSING_FAILED on the last attempt', async () => {
    const flaky: FileStore = Object.assign(Object.create(store) as FileStore, { verifiedPath: async () => Promise.reject(new Error('EIO: disk hiccup')) });
    const { broadcaster, processor, upload } = setup({ store: flaky });
    const idle: JobQueue = { enqueue: async () => undefined, process: () => undefined, close: async () => undefined, health: async () => undefined };
    const file = await upload('doc.pdf', threePagePdf(), idle);

    await expect(processor.handle(file.job, FIRST)).rejects.toThrow(/disk hiccup/);
    expect((await row(file.id)).status).toBe('parsing');
    expect(broadcaster.trail(file.id).some((t) => t[0] === 'file:failed')).toBe(false);

    await expect(processor.handle(file.job, LAST)).rejects.toMatchObject({ code: 'PROCESSING_FAILED' });
    expect(await row(file.id)).toMatchObject({ status: 'failed', errorCode: 'PROCESSING_FAILED' });
    expect(broadcaster.trail(file.id).at(-1)).toEqual(['file:failed', 'PROCESSING_FAILED']);
  });

  it('recordFailure fails an unfinished file once and leaves finished ones alone', async () => {
    const { broadcaster, processor, upload } = setup();
    const idle: JobQueue = { enqueue: async () => undefined, process: () => undefined, close: async () => undefined, health: async () => undefined };
    const file = await upload('stuck.pdf', threePagePdf(), idle);
    await processor.recordFailure(file.job, new Error('stalled too often'));
    await processor.recordFailure(file.job, new Error('stalled too often'));
    expect(await row(file.id)).toMatchObject({ status: 'failed', errorCode: 'PARSE_WORKER_FAILED' });
    expect(broadcaster.trail(file.id).filter((t) => t[0] === 'file:failed')).toHaveLength(1);
  });

  it('refuses a bad upload before storing anything or creating a row', async () => {
    const { upload } = setup();
    const { roomId } = await newRoom();
    await expect(upload('invoice.pdf', plainZip())).rejects.toMatchObject({ code: 'FILE_TYPE_MISMATCH', status: 415 });
    const tooBig = registerUpload(
      { orm, store, queue: new InProcessJobQueue(), broadcaster: new RecordingBroadcaster(), limits: { uploadBytes: 10 } },
      { roomId, userId: null, filename: 'big.txt', bytes: Buffer.alloc(11, 0x61) },
    );
    await expect(tooBig).rejects.toMatchObject({ code: 'FILE_TOO_LARGE', status: 413 });
    expect(await orm.em.fork().count(StoredFile, { room: roomId })).toBe(0);
  });

  it('removes the row again when the job cannot be enqueued', async () => {
    const { upload } = setup();
    const broken: JobQueue = { enqueue: async () => Promise.reject(new Error('redis down')), process: () => undefined, close: async () => undefined, health: async () => undefined };
    await expect(upload('notes.txt', Buffer.from('hello'), broken)).rejects.toThrow('redis down');
    expect(await orm.em.fork().count(StoredFile, { filename: 'notes.txt', status: 'queued', sizeBytes: 5 })).toBe(0);
  });

  it('requeueUnfinishedFiles enqueues queued and parsing files only', async () => {
    const { upload } = setup();
    const idle: JobQueue = { enqueue: async () => undefined, process: () => undefined, close: async () => undefined, health: async () => undefined };
    const a = await upload('a.txt', Buffer.from('a'), idle);
    const b = await upload('b.txt', Buffer.from('b'), idle);
    await orm.em.fork().nativeUpdate(StoredFile, { id: b.id }, { status: 'parsing' });
    const c = await upload('c.txt', Buffer.from('c'), idle);
    await orm.em.fork().nativeUpdate(StoredFile, { id: c.id }, { status: 'ready' });
    const enqueued: string[] = [];
    const recording: JobQueue = { ...idle, enqueue: async (j) => void enqueued.push(j.fileId) };
    await requeueUnfinishedFiles(orm, recording, { batchSize: 1 });
    expect(enqueued).toContain(a.id);
    expect(enqueued).toContain(b.id);
    expect(enqueued).not.toContain(c.id);
  });
});
