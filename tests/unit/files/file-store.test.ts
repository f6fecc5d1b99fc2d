import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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
    expect((await store.get(sha256)).equals(bytes)).toBe(true);
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
    await expect(store.get(missing)).rejects.toMatchObject({ code: 'FILE_MISSING' });
    const { sha256 } = await store.put(Buffer.from('original'));
    writeFileSync(store.pathOf(sha256), 'tampered');
    await expect(store.get(sha256)).rejects.toBeInstanceOf(ParseError);
    await expect(store.get(sha256)).rejects.toMatchObject({ code: 'FILE_MISSING' });
    await expect(store.get('../../etc/passwd')).rejects.toMatchObject({ code: 'FILE_MISSING' });
    expect(await store.has('../../etc/passwd')).toBe(false);
  });
});
