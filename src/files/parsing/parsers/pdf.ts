import { PDFParse } from 'pdf-parse';
import type { ParsedContent } from '../../../db/entities/file';
import { ParseError } from '../../parse-error';
import { checkFlateStreams } from './pdf-streams';
import { capText, type Parser } from './types';

/** pdf.js names its errors; PDFParse keeps those names when it rethrows. */
function classify(err: unknown): ParseError {
  if (err instanceof ParseError) return err;
  const name = (err as Error | undefined)?.name;
  if (name === 'PasswordException') {
    return new ParseError('PDF_ENCRYPTED', 'the PDF is password-protected', { cause: err });
  }
  const detail = err instanceof Error && err.message ? `: ${err.message}` : '';
  return new ParseError('PDF_CORRUPT', `the PDF could not be read${detail}`, { cause: err });
}

/**
 * PDF: first every Flate stream is inflate-checked against `pdfMaxStreamBytes`
 * (PDF_TOO_LARGE_INFLATED, see pdf-streams.ts); then text page by page (so progress is real and
 * the page cap is checked after the first page, before the rest is read). More than `pdfMaxPages`
 * pages fails with PDF_TOO_MANY_PAGES.
 */
export const parsePdf: Parser = async (bytes, ctx) => {
  const { pdfMaxPages, maxTextChars } = ctx.limits;
  await checkFlateStreams(bytes, ctx.limits.pdfMaxStreamBytes);
  const parser = new PDFParse({
    // pdf.js may detach the buffer it is given: hand it a copy.
    data: new Uint8Array(bytes),
    isEvalSupported: false,
    useSystemFonts: false,
    verbosity: 0,
  });
  const content: ParsedContent = { pages: [] };
  try {
    let total = 1;
    let chars = 0;
    for (let page = 1; page <= total; page++) {
      const result = await parser.getText({ partial: [page], pageJoiner: '' });
      total = result.total;
      if (total > pdfMaxPages) {
        throw new ParseError('PDF_TOO_MANY_PAGES', `the PDF has ${total} pages; at most ${pdfMaxPages} are read`);
      }
      const raw = (result.pages[0]?.text ?? '').trimEnd();
      const { text, truncated } = capText(raw, maxTextChars - chars);
      chars += text.length;
      if (page <= total) content.pages!.push({ page, text }); // a PDF may have no page at all
      if (truncated) {
        content.truncated = true;
        break;
      }
      ctx.progress(page / Math.max(total, 1));
    }
    return content;
  } catch (err) {
    throw classify(err);
  } finally {
    await parser.destroy().catch(() => undefined);
  }
};
