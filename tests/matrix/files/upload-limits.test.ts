import type { Socket } from 'node:net';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoredFile } from '../../../src/db/entities';
import { stagingFiles, startUpload, waitFor } from '../../helpers/raw-upload';
import { startTestApp, testDb, type TestApp } from '../../helpers/test-app';
import { uploadFile } from '../../helpers/upload-suite';

/** The garbage collector, without starting node with --expose-gc: memory is measured after a full collection. */
v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * What stays allocated: the least of a few samples, each after a full collection. Whatever else
 * this process (the test runner too) has in flight for a moment does not count; a file held in
 * memory would be in every sample.
 */
async function retained(): Promise<{ arrayBuffers: number; heapUsed: number }> {
  const min = { arrayBuffers: Infinity, heapUsed: Infinity };
  for (let i = 0; i < 5; i++) {
    if (i) await new Promise((r) => setTimeout(r, 20));
    gc();
    const m = process.memoryUsage();
    min.arrayBuffers = Math.min(min.arrayBuffers, m.arrayBuffers);
    min.heapUsed = Math.min(min.heapUsed, m.heapUsed);
  }
  return min;
}

async function roomOf(app: TestApp, token: string) {
  return (await app.api(token, 'POST', '/rooms', { name: 'Uploads' })).body.id as string;
}

const rowsIn = (app: TestApp, roomId: string) => app.orm.em.fork().count(StoredFile, { room: roomId });

describe(`upload bodies that stall or drip, on ${testDb()}`, () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { UPLOAD_IDLE_TIMEOUT_MS: '400', UPLOAD_TIMEOUT_MS: '2000', MAX_UPLOAD_BYTES: '65536' } });
  });
  afterAll(() => app?.close());

  it('cuts a body that stops sending: 408 UPLOAD_TIMEOUT, connection closed, no staging file, no row', async () => {
    const token = app.token('staller');
    const roomId = await roomOf(app, token);
    const up = startUpload(app.url, token, roomId, 'stalled.txt');
    await up.write(Buffer.alloc(10_000, 'a'));
    // ...and nothing more.
    const res = await up.response;
    expect(res.status).toBe(408);
    expect(res.body.error.code).toBe('UPLOAD_TIMEOUT');
    await up.closed;
    expect(stagingFiles(app.config.dataDir)).toEqual([]);
    expect(await rowsIn(app, roomId)).toBe(0);
  });

  it('refuses a body over MAX_UPLOAD_BYTES with 413 FILE_TOO_LARGE, leaving no staging file and no row', async () => {
    const token = app.token('oversize');
    const roomId = await roomOf(app, token);
    const res = await uploadFile(app, token, roomId, 'big.txt', Buffer.alloc(200_000, 'a'));
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('FILE_TOO_LARGE');
    expect(stagingFiles(app.config.dataDir)).toEqual([]);
    expect(await rowsIn(app, roomId)).toBe(0);
  });

  it('cuts a body that drips steadily, never idle, at the total upload timeout', async () => {
    const token = app.token('dripper');
    const roomId = await roomOf(app, token);
    const up = startUpload(app.url, token, roomId, 'drip.txt');
    let answered = false;
    void up.response.finally(() => (answered = true));
    let sent = 0;
    const drip = (async () => {
      while (!answered && sent < 1000) {
        await up.write('a');
        sent++;
        await new Promise((r) => setTimeout(r, 50)); // well inside the idle timeout
      }
    })();
    const res = await up.response;
    await drip;
    expect(res.status).toBe(408);
    expect(res.body.error.code).toBe('UPLOAD_TIMEOUT');
    expect(sent).toBeLessThan(1000); // cut before the drip ran out
    await up.closed;
    expect(stagingFiles(app.config.dataDir)).toEqual([]);
    expect(await rowsIn(app, roomId)).toBe(0);
  });
});

describe(`concurrent uploads and memory, on ${testDb()}`, () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { MAX_UPLOADS_PER_USER: '2', MAX_UPLOADS_TOTAL: '3' } });
  });
  afterAll(() => app?.close());

  it('refuses uploads past the per-user and the total caps with 429 UPLOAD_BUSY, and frees the slots after', async () => {
    const alice = app.token('alice');
    const bob = app.token('bob');
    const carol = app.token('carol');
    const [aliceRoom, bobRoom, carolRoom] = [await roomOf(app, alice), await roomOf(app, bob), await roomOf(app, carol)];

    const held = [startUpload(app.url, alice, aliceRoom, 'a1.txt'), startUpload(app.url, alice, aliceRoom, 'a2.txt')];
    for (const h of held) await h.write('first bytes\n');
    await waitFor(() => stagingFiles(app.config.dataDir).length === 2, 'two uploads being staged');

    const third = await uploadFile(app, alice, aliceRoom, 'a3.txt', Buffer.from('one too many'));
    expect(third.status).toBe(429);
    expect(third.body.error).toMatchObject({ code: 'UPLOAD_BUSY', details: { scope: 'user', limit: 2 } });

    const other = await uploadFile(app, bob, bobRoom, 'b1.txt', Buffer.from('bob is not waiting for alice'));
    expect(other.status).toBe(201);

    held.push(startUpload(app.url, bob, bobRoom, 'b2.txt'));
    await held[2]!.write('bob holds one too\n');
    await waitFor(() => stagingFiles(app.config.dataDir).length === 3, 'three uploads being staged');
    const full = await uploadFile(app, carol, carolRoom, 'c1.txt', Buffer.from('the node is full'));
    expect(full.status).toBe(429);
    expect(full.body.error).toMatchObject({ code: 'UPLOAD_BUSY', details: { scope: 'server', limit: 3 } });

    for (const h of held) h.end();
    expect((await Promise.all(held.map((h) => h.response))).map((r) => r.status)).toEqual([201, 201, 201]);
    expect((await uploadFile(app, alice, aliceRoom, 'a4.txt', Buffer.from('slots are free again'))).status).toBe(201);
    expect((await uploadFile(app, carol, carolRoom, 'c2.txt', Buffer.from('for everyone'))).status).toBe(201);
    expect(stagingFiles(app.config.dataDir)).toEqual([]);
    expect(await rowsIn(app, aliceRoom)).toBe(3);
  });

  it('receives a 15 MB upload without holding it in memory', async () => {
    const token = app.token('big');
    const roomId = await roomOf(app, token);
    const SIZE = 15 * 1024 * 1024;
    const line = Buffer.alloc(64 * 1024, 'a');
    line[line.length - 1] = 0x0a;

    const serverSockets: Socket[] = [];
    const onConnection = (s: Socket) => serverSockets.push(s);
    app.httpServer.on('connection', onConnection);

    const before = await retained();
    const up = startUpload(app.url, token, roomId, 'big.txt');
    for (let sent = 0; sent < SIZE; sent += line.length) await up.write(line);
    // Every byte has been read by the server, the closing boundary not yet sent: a server that
    // buffers uploads holds the whole file now.
    await waitFor(() => serverSockets.some((s) => s.bytesRead >= SIZE), 'the server to read the whole body', 20_000);
    app.httpServer.off('connection', onConnection);
    const during = await retained();
    const grown = {
      arrayBuffers: during.arrayBuffers - before.arrayBuffers,
      heapUsed: during.heapUsed - before.heapUsed,
    };
    // Client and server share this process: both together stay far below the file's size.
    expect(grown.arrayBuffers).toBeLessThan(SIZE / 8);
    expect(grown.heapUsed).toBeLessThan(SIZE / 8);

    up.end();
    const res = await up.response;
    expect(res.status).toBe(201);
    expect(res.body.sizeBytes).toBe(SIZE);
  });
});
