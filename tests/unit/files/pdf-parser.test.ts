import { describe, expect, it } from 'vitest';
import { buildPdf, corruptPdf, encryptedPdf, threePagePdf } from '../../helpers/file-fixtures';
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
});
