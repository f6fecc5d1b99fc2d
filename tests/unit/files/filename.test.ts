import { describe, expect, it } from 'vitest';
import { extensionOf, sanitizeFilename } from '../../../src/files/upload/filename';

describe('filenames', () => {
  it('keeps only the base name, without control or bidi characters', () => {
    expect(sanitizeFilename('../../etc/passwd')).toBe('passwd');
    expect(sanitizeFilename('C:\\Users\\me\\report.pdf')).toBe('report.pdf');
    expect(sanitizeFilename('evil\u202Etxt.exe')).toBe('eviltxt.exe');
    expect(sanitizeFilename('a\nb\u0000.txt')).toBe('ab.txt');
    expect(sanitizeFilename('..')).toBe('file');
  });

  it('shortens a long name to 255 characters and keeps its extension', () => {
    const name = sanitizeFilename(`${'x'.repeat(400)}.docx`);
    expect(name).toHaveLength(255);
    expect(name.endsWith('.docx')).toBe(true);
  });

  it('reads the extension in lower case', () => {
    expect(extensionOf('A.PDF')).toBe('pdf');
    expect(extensionOf('archive.tar.gz')).toBe('gz');
    expect(extensionOf('.env')).toBe('');
    expect(extensionOf('trailing.')).toBe('');
  });
});
