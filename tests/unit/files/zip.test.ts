import { describe, expect, it } from 'vitest';
import { entryData, readCentralDirectory, ZipFormatError } from '../../../src/files/zip/central-directory';
import { InflateLimitError, measureInflatedSize } from '../../../src/files/zip/inflate-check';
import { buildZip, deflatedZeros } from '../../helpers/file-fixtures';

describe('zip central directory', () => {
  it('lists names, methods and declared sizes without inflating', () => {
    const zip = buildZip([
      { name: 'a.txt', data: 'aaaaaaaaaa' },
      { name: 'dir/b.bin', data: new Uint8Array([1, 2, 3]), method: 'store' },
    ]);
    const entries = readCentralDirectory(zip);
    expect(entries.map((e) => [e.name, e.method, e.uncompressedSize])).toEqual([
      ['a.txt', 8, 10],
      ['dir/b.bin', 0, 3],
    ]);
    expect(Buffer.from(entryData(zip, entries[1]!))).toEqual(Buffer.from([1, 2, 3]));
  });

  it('finds the directory behind an archive comment', () => {
    const zip = buildZip([{ name: 'a.txt', data: 'x' }]);
    const comment = Buffer.from('a comment');
    zip.writeUInt16LE(comment.length, zip.length - 2);
    expect(readCentralDirectory(Buffer.concat([zip, comment])).map((e) => e.name)).toEqual(['a.txt']);
  });

  it('throws ZipFormatError for bytes that are not a zip, and names a too-long directory', () => {
    expect(() => readCentralDirectory(Buffer.from('PK\x03\x04 but nothing else follows here'))).toThrow(ZipFormatError);
    const zip = buildZip([{ name: '1', data: '1' }, { name: '2', data: '2' }]);
    expect(() => readCentralDirectory(zip, { maxEntries: 1 })).toThrow(expect.objectContaining({ reason: 'too-many-entries' }));
  });
});

describe('measureInflatedSize', () => {
  it('counts the inflated bytes and stops past the limit', async () => {
    const zeros = await deflatedZeros(5 * 1024 * 1024);
    await expect(measureInflatedSize(zeros.compressed, 5 * 1024 * 1024)).resolves.toBe(5 * 1024 * 1024);
    await expect(measureInflatedSize(zeros.compressed, 1024 * 1024)).rejects.toBeInstanceOf(InflateLimitError);
  });

  it('rejects data that is not deflate', async () => {
    await expect(measureInflatedSize(Buffer.from([0xff, 0xff, 0xff, 0xff]), 100)).rejects.toThrow();
  });
});
