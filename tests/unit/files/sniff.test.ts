import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sniffFile, withFileSource } from '../../../src/files/upload/sniff';
import { AppError } from '../../../src/shared/errors';
import { buildZip, corruptPdf, docxParts, emptyFile, latin1Text, plainZip, quotedCsv, sampleDocx, threePagePdf } from '../../helpers/file-fixtures';

async function sniffError(filename: string, bytes: Uint8Array): Promise<AppError> {
  try {
    await sniffFile(filename, bytes);
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error(`expected ${filename} to be refused`);
}

describe('sniffFile', () => {
  it.each([
    ['report.pdf', threePagePdf(), 'pdf', 'application/pdf'],
    ['Report.PDF', corruptPdf(), 'pdf', 'application/pdf'], // damaged, but a PDF: the parser says how
    ['minutes.docx', sampleDocx(), 'docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
    ['table.csv', quotedCsv(), 'csv', 'text/csv'],
    ['notes.txt', Buffer.from('hello'), 'txt', 'text/plain'],
    ['README.md', Buffer.from('# hi'), 'md', 'text/markdown'],
    ['guide.markdown', Buffer.from('# hi'), 'md', 'text/markdown'],
  ])('accepts %s as %s', async (name, bytes, kind, mime) => {
    expect(await sniffFile(name, bytes)).toEqual({ kind, mime });
  });

  it('refuses an empty file with EMPTY_FILE (400)', async () => {
    const err = await sniffError('empty.txt', emptyFile());
    expect([err.code, err.status]).toEqual(['EMPTY_FILE', 400]);
  });

  it('refuses a .pdf that is really a zip with FILE_TYPE_MISMATCH (415)', async () => {
    const err = await sniffError('invoice.pdf', plainZip());
    expect([err.code, err.status]).toEqual(['FILE_TYPE_MISMATCH', 415]);
    expect(err.details).toMatchObject({ extension: 'pdf', detected: 'zip' });
  });

  it.each([
    ['a PDF named .txt', 'notes.txt', threePagePdf(), 'pdf'],
    ['a Word document named .csv', 'data.csv', sampleDocx(), 'docx'],
    ['a zip without word/document.xml named .docx', 'fake.docx', buildZip([{ name: 'x.xml', data: '<x/>' }]), 'zip'],
    ['text named .docx', 'letter.docx', Buffer.from('plain words'), 'text'],
    ['binary data named .md', 'image.md', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0]), 'binary'],
  ])('refuses %s with FILE_TYPE_MISMATCH', async (_label, name, bytes, detected) => {
    const err = await sniffError(name, bytes);
    expect(err.code).toBe('FILE_TYPE_MISMATCH');
    expect(err.details).toMatchObject({ detected });
  });

  it.each([['photo.png'], ['archive.zip'], ['no-extension'], ['.bashrc']])('refuses %s with UNSUPPORTED_FILE_TYPE', async (name) => {
    const err = await sniffError(name, Buffer.from('some text'));
    expect([err.code, err.status]).toEqual(['UNSUPPORTED_FILE_TYPE', 415]);
  });

  it('refuses text that is not UTF-8 (Latin-1, UTF-16) with TEXT_ENCODING', async () => {
    expect((await sniffError('menu.txt', latin1Text())).code).toBe('TEXT_ENCODING');
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('a,b\n1,2\n', 'utf16le')]);
    expect((await sniffError('table.csv', utf16)).code).toBe('TEXT_ENCODING');
  });

  it('reads text in chunks: a character split across chunks is fine, bad bytes or NUL far in are found', async () => {
    const split = Buffer.concat([Buffer.alloc(64 * 1024 - 1, 'a'), Buffer.from('✓ done\n')]);
    expect(await sniffFile('long.txt', split)).toMatchObject({ kind: 'txt' });
    expect((await sniffError('late.txt', Buffer.concat([Buffer.alloc(200 * 1024, 'a'), Buffer.from([0xe9, 0x0a])]))).code).toBe('TEXT_ENCODING');
    const nulLate = Buffer.concat([Buffer.from([0xe9]), Buffer.alloc(200 * 1024, 'a'), Buffer.from([0])]);
    expect(await sniffError('late.txt', nulLate)).toMatchObject({ code: 'FILE_TYPE_MISMATCH', details: { detected: 'binary' } });
  });

  it('finds a Word document from the end of a file on disk, reading only its directory', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pantheon-sniff-'));
    try {
      // A large first entry puts the directory far from the start; many entries make it longer
      // than the tail read first, so it is found from the end record and read in a second step.
      const media = Array.from({ length: 1500 }, (_, i) => ({ name: `word/media/${String(i).padStart(70, 'x')}.bin`, data: 'x', method: 'store' as const }));
      const docx = buildZip([{ name: 'padding.bin', data: randomBytes(1024 * 1024), method: 'store' }, ...media, ...docxParts([{ paragraph: 'hello' }])]);
      writeFileSync(path.join(dir, 'a.docx'), docx);
      const reads: number[] = [];
      const result = await withFileSource(path.join(dir, 'a.docx'), (src) =>
        sniffFile('a.docx', { size: src.size, read: (o, l) => (reads.push(l), src.read(o, l)) }),
      );
      expect(result.kind).toBe('docx');
      expect(reads.length).toBe(3); // the head, the tail, the directory
      expect(reads.reduce((a, b) => a + b, 0)).toBeLessThan(docx.length / 2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
