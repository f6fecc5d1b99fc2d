import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DiskFileStore, sha256Hex } from '../../../src/files/upload/file-store';
import { ParseError } from '../../../src/files/parse-error';

describe('DiskFileStore', () => {
  let dataDir: string;
  let store: DiskFileStore;
  beforeEach(() => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'pantheon-store-'));
    store = DiskFileStore.forDataDir(dataDir);
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('stores bytes under files/<sha[0..2]>/<sha> and reads them back', async () => {
    const bytes = Buffer.from('hello store');
    const { sha256, sizeBytes } = await store.put(bytes);
    expect(sha256).toBe(sha256Hex(bytes));
    expect(sizeBytes).toBe(bytes.length);
    expect(readdirSync(path.join(dataDir, 'files', sha256.slice(0, 2)))).toEqual([sha256]);
    expect(readFileSync(await store.verifiedPath(sha256)).equals(bytes)).toBe(true);
    expect(await store.has(sha256)).toBe(true);
  });

  it('keeps one copy of identical content and leaves no temporary file behind', async () => {
    const bytes = Buffer.from('same content');
    const results = await Promise.all([store.put(bytes), store.put(bytes), store.put(Buffer.from(bytes))]);
    expect(new Set(results.map((r) => r.sha256)).size).toBe(1);
    expect(readdirSync(path.join(dataDir, 'files', results[0]!.sha256.slice(0, 2)))).toEqual([results[0]!.sha256]);
  });

  it('fails with FILE_MISSING for unknown content, a damaged copy, or an address that is not a hash', async () => {
    const missing = sha256Hex(Buffer.from('never stored'));
    await expect(store.verifiedPath(missing)).rejects.toMatchObject({ code: 'FILE_MISSING' });
    const { sha256 } = await store.put(Buffer.from('original'));
    writeFileSync(store.pathOf(sha256), 'tampered');
    await expect(store.verifiedPath(sha256)).rejects.toBeInstanceOf(ParseError);
    await expect(store.verifiedPath(sha256)).rejects.toMatchObject({ code: 'FILE_MISSING' });
    await expect(store.verifiedPath('../../etc/passwd')).rejects.toMatchObject({ code: 'FILE_MISSING' });
    expect(await store.has('../../etc/passwd')).toBe(false);
  });

  it('stages a stream on disk with its hash, then adopts it by rename; an aborted stage leaves nothing', async () => {
    const parts = [Buffer.from('part one, '), Buffer.from('part two')];
    const staged = await store.stage(Readable.from(parts));
    expect(staged.sha256).toBe(sha256Hex(Buffer.concat(parts)));
    expect(staged.sizeBytes).toBe(18);
    expect(path.dirname(staged.path)).toBe(store.stagingDir);
    await store.adopt(staged);
    expect(existsSync(staged.path)).toBe(false);
    expect(readFileSync(store.pathOf(staged.sha256), 'utf8')).toBe('part one, part two');

    const abort = new AbortController();
    async function* slow() {
      yield Buffer.from('first chunk');
      abort.abort(new Error('cut'));
      yield Buffer.from('never written');
    }
    await expect(store.stage(slow(), abort.signal)).rejects.toThrow();
    expect(readdirSync(store.stagingDir)).toEqual([]);
  });

  it('sweeps staging files older than the given age only', async () => {
    const old = await store.stage(Readable.from([Buffer.from('left by a dead process')]));
    const young = await store.stage(Readable.from([Buffer.from('still arriving')]));
    const now = Date.now();
    utimesSync(old.path, new Date(now - 60_000), new Date(now - 60_000));
    expect(await store.sweepStaging(30_000, now)).toBe(1);
    expect(readdirSync(store.stagingDir)).toEqual([path.basename(young.path)]);
    expect(await store.sweepStaging(0)).toBe(1);
    expect(readdirSync(store.stagingDir)).toEqual([]);
  });
});
