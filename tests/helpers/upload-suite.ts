import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoredFile } from '../../src/db/entities';
import {
  corruptPdf,
  csvWithRows,
  emptyFile,
  encryptedPdf,
  flateBombPdf,
  plainZip,
  quotedCsv,
  sampleDocx,
  threePagePdf,
  zipBombDocx,
} from './file-fixtures';
import { TestClient } from './socket-client';
import type { TestApp } from './test-app';

/** Env for the apps of this suite: small caps so the limits are reachable by test files. */
export const UPLOAD_ENV = { MAX_UPLOAD_BYTES: String(512 * 1024), CSV_MAX_ROWS: '100' };

/** POSTs a multipart upload the way a browser does. */
export async function uploadFile(app: TestApp, token: string, roomId: string, filename: string, bytes: Uint8Array) {
  const form = new FormData();
  form.append('file', new Blob([bytes]), filename);
  const res = await fetch(`${app.url}/api/v1/rooms/${roomId}/files`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
  return { status: res.status, body: (await res.json()) as any };
}

/**
 * Uploads over REST, parsing by the queue of the mode under test, progress to everyone in the room
 * over real sockets. `start` returns the app that serves clients (and starts whatever parses).
 */
export function uploadSuite(name: string, start: () => Promise<{ app: TestApp; close(): Promise<void> }>) {
  describe(`file uploads: ${name}`, () => {
    let app: TestApp;
    let stop: () => Promise<void>;
    let owner: string;
    let roomId: string;
    let client: TestClient;

    beforeAll(async () => {
      const started = await start();
      app = started.app;
      stop = started.close;
      owner = app.token('uploader', { name: 'Uma' });
      roomId = (await app.api(owner, 'POST', '/rooms', { name: 'Files' })).body.id;
      client = new TestClient(app.url, owner);
      await client.connected();
      expect((await client.request('room:join', { roomId })).ok).toBe(true);
    });
    afterAll(async () => {
      client?.close();
      await stop?.();
    });

    const fileEvents = (fileId: string) => client.received.filter((r) => r.data?.fileId === fileId);
    const settled = async (fileId: string) => {
      await client.until(() => fileEvents(fileId).some((e) => e.event === 'file:ready' || e.event === 'file:failed'), `file ${fileId} settled`, 30_000);
      return fileEvents(fileId);
    };
    const rows = () => app.orm.em.fork().count(StoredFile, { room: roomId });

    const formats: [string, () => Uint8Array, (parsed: any) => void][] = [
      [
        'report.pdf',
        threePagePdf,
        (p) => {
          expect(p.pages).toHaveLength(3);
          expect(p.pages.map((x: any) => x.page)).toEqual([1, 2, 3]);
          expect(p.pages[1].text).toMatch(/\S/);
        },
      ],
      [
        'minutes.docx',
        sampleDocx,
        (p) => {
          const text = p.pages?.[0]?.text ?? p.text;
          expect(text).toMatch(/^# /m);
          expect(text).toContain('Region | Revenue | Growth');
        },
      ],
      [
        'sales.csv',
        quotedCsv,
        (p) => {
          expect(p.header).toBeTruthy();
          const text = p.rows.map((r: any) => r.text).join('\n');
          expect(text).toContain('"');
          expect(p.rows.length).toBeGreaterThan(0);
        },
      ],
      ['notes.txt', () => Buffer.from('Plain notes\nsecond line ✓\n'), (p) => expect(p.pages?.[0]?.text ?? p.text).toContain('second line ✓')],
      ['readme.md', () => Buffer.from('# Title\n\n- item one\n- item two\n'), (p) => expect(p.pages?.[0]?.text ?? p.text).toContain('- item two')],
    ];

    for (const [filename, bytes, check] of formats) {
      it(`parses ${filename} with progress in order, then serves the parsed text`, async () => {
        const up = await uploadFile(app, owner, roomId, filename, bytes());
        expect(up.status, JSON.stringify(up.body)).toBe(201);
        expect(up.body).toMatchObject({ filename, status: 'queued' });
        const events = await settled(up.body.id);
        expect(events.at(-1)!.event).toBe('file:ready');
        const progress = events.filter((e) => e.event === 'file:progress').map((e) => e.data.percent);
        expect(progress.length).toBeGreaterThanOrEqual(3);
        expect(progress).toEqual([...progress].sort((a, b) => a - b));
        const seqs = events.map((e) => e.data.seq);
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
        const got = await app.api(owner, 'GET', `/files/${up.body.id}`);
        expect(got.status).toBe(200);
        expect(got.body).toMatchObject({ id: up.body.id, status: 'ready', filename, error: null });
        check(got.body.parsed);
      });
    }

    it('refuses files whose bytes are not what their name says, and empty files, writing nothing', async () => {
      const before = await rows();
      const zipAsPdf = await uploadFile(app, owner, roomId, 'invoice.pdf', plainZip());
      expect(zipAsPdf.status).toBe(415);
      expect(zipAsPdf.body.error.code).toBe('FILE_TYPE_MISMATCH');
      const empty = await uploadFile(app, owner, roomId, 'empty.txt', emptyFile());
      expect(empty.status).toBe(400);
      expect(empty.body.error.code).toBe('EMPTY_FILE');
      const big = await uploadFile(app, owner, roomId, 'big.txt', Buffer.alloc(600 * 1024, 'a'));
      expect(big.status).toBe(413);
      expect(big.body.error.code).toBe('FILE_TOO_LARGE');
      const stranger = await uploadFile(app, app.token('stranger'), roomId, 'x.txt', Buffer.from('hello'));
      expect(stranger.status).toBe(404);
      expect(stranger.body.error.code).toBe('ROOM_NOT_FOUND');
      const notMultipart = await app.api(owner, 'POST', `/rooms/${roomId}/files`, { file: 'x' });
      expect(notMultipart.status).toBe(415);
      expect(await rows()).toBe(before);
    });

    const failing: [string, () => Uint8Array | Promise<Uint8Array>, string][] = [
      ['broken.pdf', corruptPdf, 'PDF_CORRUPT'],
      ['locked.pdf', encryptedPdf, 'PDF_ENCRYPTED'],
      ['bomb.docx', () => zipBombDocx(), 'DOCX_ZIP_BOMB'],
      // 200 MiB of zeros in ~200 KB, past the stream cap of the default PARSE_MEMORY_MB (half of 256 MB).
      ['bomb.pdf', () => flateBombPdf(200 * 1024 * 1024), 'PDF_TOO_LARGE_INFLATED'],
      ['huge.csv', () => csvWithRows(150), 'CSV_TOO_MANY_ROWS'],
    ];
    for (const [filename, bytes, code] of failing) {
      it(`fails ${filename} with ${code}, announced to the room, and stays healthy`, async () => {
        const up = await uploadFile(app, owner, roomId, filename, await bytes());
        expect(up.status).toBe(201);
        const events = await settled(up.body.id);
        const last = events.at(-1)!;
        expect(last.event).toBe('file:failed');
        expect(last.data.code).toBe(code);
        const got = await app.api(owner, 'GET', `/files/${up.body.id}`);
        expect(got.body).toMatchObject({ status: 'failed', error: { code }, parsed: null });
        const health = await app.api(undefined, 'GET', '/health');
        expect(health.status).toBe(200);
      });
    }

    it('lists the room’s files newest first, to members only', async () => {
      const list = await app.api(owner, 'GET', `/rooms/${roomId}/files?limit=2`);
      expect(list.status).toBe(200);
      expect(list.body.items).toHaveLength(2);
      expect(list.body.items[0]).not.toHaveProperty('parsed');
      expect(list.body.nextCursor).toBeTypeOf('string');
      const next = await app.api(owner, 'GET', `/rooms/${roomId}/files?limit=2&before=${list.body.nextCursor}`);
      expect(next.body.items[0].id).not.toBe(list.body.items[1].id);
      const outsider = await app.api(app.token('outsider'), 'GET', `/rooms/${roomId}/files`);
      expect(outsider.status).toBe(404);
    });

    it('hides a file from non-members like a missing one', async () => {
      const up = await uploadFile(app, owner, roomId, 'private.txt', Buffer.from('secret'));
      const r = await app.api(app.token('outsider'), 'GET', `/files/${up.body.id}`);
      expect(r.status).toBe(404);
      expect(r.body.error.code).toBe('FILE_NOT_FOUND');
    });
  });
}
