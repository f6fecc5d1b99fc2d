import mammoth from 'mammoth';
import { ParseError } from '../../parse-error';
import { entryData, readCentralDirectory, ZipFormatError, type ZipEntry } from '../../zip/central-directory';
import { InflateLimitError, measureInflatedSize } from '../../zip/inflate-check';
import { htmlToText } from './html-text';
import { capText, type ParseLimits, type Parser } from './types';

/** Entries smaller than this may compress as well as they like: they cannot hurt. */
const RATIO_CHECK_MIN_BYTES = 1024 * 1024;
const METHOD_STORED = 0;
const METHOD_DEFLATE = 8;

const bomb = (message: string) => new ParseError('DOCX_ZIP_BOMB', message);
const corrupt = (message: string, cause?: unknown) => new ParseError('DOCX_CORRUPT', message, { cause });

function listEntries(bytes: Uint8Array, limits: ParseLimits): ZipEntry[] {
  try {
    return readCentralDirectory(bytes, { maxEntries: limits.docxMaxEntries });
  } catch (err) {
    if (err instanceof ZipFormatError && err.reason === 'too-many-entries') throw bomb(`the document has ${err.message}`);
    throw corrupt(`the document is not a readable zip: ${(err as Error).message}`, err);
  }
}

/** Step 1, before inflating a byte: what the zip declares must be within the limits. */
function checkDeclared(entries: ZipEntry[], limits: ParseLimits) {
  if (!entries.some((e) => e.name === 'word/document.xml')) throw corrupt('the document has no word/document.xml');
  let total = 0;
  for (const e of entries) {
    total += e.uncompressedSize;
    if (total > limits.docxMaxUncompressedBytes) {
      throw bomb(`the document declares more than ${limits.docxMaxUncompressedBytes} uncompressed bytes`);
    }
    const ratio = e.uncompressedSize / Math.max(e.compressedSize, 1);
    if (e.uncompressedSize > RATIO_CHECK_MIN_BYTES && ratio > limits.docxMaxRatio) {
      throw bomb(`"${e.name}" declares a compression ratio of ${Math.round(ratio)}:1`);
    }
    if (e.flags & 0x1) throw corrupt(`"${e.name}" is encrypted`);
    if (e.method !== METHOD_STORED && e.method !== METHOD_DEFLATE) throw corrupt(`"${e.name}" uses compression method ${e.method}`);
  }
}

/** Step 2: declared sizes can lie. Inflate each entry, counting and discarding, capped at its declared size. */
async function checkActual(bytes: Uint8Array, entries: ZipEntry[]) {
  for (const e of entries) {
    let data: Uint8Array;
    try {
      data = entryData(bytes, e);
    } catch (err) {
      throw corrupt((err as Error).message, err);
    }
    if (e.method === METHOD_STORED) {
      if (data.length !== e.uncompressedSize) throw corrupt(`"${e.name}" has the wrong size`);
      continue;
    }
    try {
      await measureInflatedSize(data, e.uncompressedSize);
    } catch (err) {
      if (err instanceof InflateLimitError) throw bomb(`"${e.name}" inflates to more than its declared ${e.uncompressedSize} bytes`);
      throw corrupt(`"${e.name}" does not inflate: ${(err as Error).message}`, err);
    }
  }
}

// Images carry no text; converting them to data URIs would only cost time and memory.
const skipImages = mammoth.images.imgElement(async () => ({ src: '' }));

/**
 * DOCX: the zip is checked against bombs first (declared sizes, ratios, entry count, then actual
 * inflated sizes), and only then handed to mammoth. mammoth's HTML (rather than its raw text) is
 * turned into text, because raw text flattens a table into one paragraph per cell and drops the
 * heading levels; see html-text.ts.
 */
export const parseDocx: Parser = async (bytes, ctx) => {
  const entries = listEntries(bytes, ctx.limits);
  checkDeclared(entries, ctx.limits);
  ctx.progress(0.1);
  await checkActual(bytes, entries);
  ctx.progress(0.4);
  let html: string;
  try {
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    html = (await mammoth.convertToHtml({ buffer }, { convertImage: skipImages, externalFileAccess: false })).value;
  } catch (err) {
    throw corrupt(`the document could not be read: ${(err as Error).message}`, err);
  }
  ctx.progress(0.8);
  const { text, truncated } = capText(htmlToText(html), ctx.limits.maxTextChars);
  ctx.progress(1);
  return { pages: [{ page: 1, text }], ...(truncated ? { truncated } : {}) };
};
