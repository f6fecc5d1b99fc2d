import { describe, expect, it } from 'vitest';
import { deflateSync } from 'node:zlib';
import { checkFlateStreams } from '../../../src/files/parsing/parsers/pdf-streams';
import { buildPdf, corruptPdf, deflatedZeros, encryptedPdf, flateBombPdf, pdfWithContentStream, threePagePdf } from '../../helpers/file-fixtures';
import { parseErrorOf, parseHere } from './parse-helpers';

describe('PDF parser', () => {
  it('extracts the text of every page, page by page', async () => {
    const { content, progress } = await parseHere('pdf', threePagePdf());
    expect(content.pages?.map((p) => p.page)).toEqual([1, 2, 3]);
    expect(content.pages?.[0]?.text).toContain('Alpha page one');
    expect(content.pages?.[1]?.text).toContain('bananas');
    expect(content.pages?.[2]?.text).toContain('Gamma page three');
    expect(content.pages?.[0]?.text).not.toContain('bananas');
    expect(content.truncated).toBeUndefined();
    expect(progress.at(-1)).toBe(1);
  });

  it('keeps parentheses and backslashes that the PDF escapes', async () => {
    const { content } = await parseHere('pdf', buildPdf([['f(x) = a\\b']]));
    expect(content.pages?.[0]?.text).toContain('f(x) = a\\b');
  });

  it('fails with PDF_ENCRYPTED for a password-protected PDF', async () => {
    const err = await parseErrorOf('pdf', encryptedPdf());
    expect(err.code).toBe('PDF_ENCRYPTED');
    expect(err.retryable).toBe(false);
  });

  it('fails with PDF_CORRUPT for a PDF that cannot be read', async () => {
    const err = await parseErrorOf('pdf', corruptPdf());
    expect(err.code).toBe('PDF_CORRUPT');
    expect(err.retryable).toBe(false);
  });

  it('fails with PDF_TOO_MANY_PAGES past the page cap', async () => {
    const err = await parseErrorOf('pdf', threePagePdf(), { pdfMaxPages: 2 });
    expect(err.code).toBe('PDF_TOO_MANY_PAGES');
  });

  it('cuts the text at maxTextChars and says so', async () => {
    const { content } = await parseHere('pdf', threePagePdf(), { maxTextChars: 20 });
    expect(content.truncated).toBe(true);
    expect(content.pages?.map((p) => p.text).join('').length).toBeLessThanOrEqual(20);
  });

  it('fails with PDF_TOO_LARGE_INFLATED when a Flate stream inflates past pdfMaxStreamBytes, before pdf.js reads it', async () => {
    const err = await parseErrorOf('pdf', await flateBombPdf(4 * 1024 * 1024), { pdfMaxStreamBytes: 1024 * 1024 });
    expect(err.code).toBe('PDF_TOO_LARGE_INFLATED');
    expect(err.retryable).toBe(false);
  });

  it('checks Flate streams only: image streams, damaged data and uncompressed content pass the stream check', async () => {
    const cap = 1024 * 1024;
    const zeros = (await deflatedZeros(4 * cap, 'zlib')).compressed;
    await expect(checkFlateStreams(pdfWithContentStream(zeros, '/Type /XObject /Subtype /Image /Width 2048 /Height 2048 /Filter /FlateDecode'), cap)).resolves.toBeUndefined();
    await expect(checkFlateStreams(pdfWithContentStream(zeros.subarray(0, 200), '/Filter /FlateDecode'), cap)).resolves.toBeUndefined();
    await expect(checkFlateStreams(threePagePdf(), cap)).resolves.toBeUndefined();
    await expect(checkFlateStreams(pdfWithContentStream(deflateSync(Buffer.alloc(cap - 1)), '/Filter /FlateDecode'), cap)).resolves.toBeUndefined();
    await expect(checkFlateStreams(pdfWithContentStream(deflateSync(Buffer.alloc(cap + 1)), '/Filter /FlateDecode'), cap)).rejects.toMatchObject({ code: 'PDF_TOO_LARGE_INFLATED' });
  });
});
