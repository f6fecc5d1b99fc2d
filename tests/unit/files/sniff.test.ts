import { describe, expect, it } from 'vitest';
import { sniffFile } from '../../../src/files/upload/sniff';
import { AppError } from '../../../src/shared/errors';
import { buildZip, corruptPdf, emptyFile, latin1Text, plainZip, quotedCsv, sampleDocx, threePagePdf } from '../../helpers/file-fixtures';

function sniffError(filename: string, bytes: Uint8Array): AppError {
  try {
    sniffFile(filename, bytes);
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
  ])('accepts %s as %s', (name, bytes, kind, mime) => {
    expect(sniffFile(name, bytes)).toEqual({ kind, mime });
  });

  it('refuses an empty file with EMPTY_FILE (400)', () => {
    const err = sniffError('empty.txt', emptyFile());
    expect([err.code, err.status]).toEqual(['EMPTY_FILE', 400]);
  });

  it('refuses a .pdf that is really a zip with FILE_TYPE_MISMATCH (415)', () => {
    const err = sniffError('invoice.pdf', plainZip());
    expect([err.code, err.status]).toEqual(['FILE_TYPE_MISMATCH', 415]);
    expect(err.details).toMatchObject({ extension: 'pdf', detected: 'zip' });
  });

  it.each([
    ['a PDF named .txt', 'notes.txt', threePagePdf(), 'pdf'],
    ['a Word document named .csv', 'data.csv', sampleDocx(), 'docx'],
    ['a zip without word/document.xml named .docx', 'fake.docx', buildZip([{ name: 'x.xml', data: '<x/>' }]), 'zip'],
    ['text named .docx', 'letter.docx', Buffer.from('plain words'), 'text'],
    ['binary data named .md', 'image.md', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0]), 'binary'],
  ])('refuses %s with FILE_TYPE_MISMATCH', (_label, name, bytes, detected) => {
    const err = sniffError(name, bytes);
    expect(err.code).toBe('FILE_TYPE_MISMATCH');
    expect(err.details).toMatchObject({ detected });
  });

  it.each([['photo.png'], ['archive.zip'], ['no-extension'], ['.bashrc']])('refuses %s with UNSUPPORTED_FILE_TYPE', (name) => {
    const err = sniffError(name, Buffer.from('some text'));
    expect([err.code, err.status]).toEqual(['UNSUPPORTED_FILE_TYPE', 415]);
  });

  it('refuses text that is not UTF-8 (Latin-1, UTF-16) with TEXT_ENCODING', () => {
    expect(sniffError('menu.txt', latin1Text()).code).toBe('TEXT_ENCODING');
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('a,b\n1,2\n', 'utf16le')]);
    expect(sniffError('table.csv', utf16).code).toBe('TEXT_ENCODING');
  });
});
