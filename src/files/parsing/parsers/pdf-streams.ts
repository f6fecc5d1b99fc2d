import { ParseError } from '../../parse-error';
import { InflateLimitError, measureInflatedSize } from '../../zip/inflate-check';

/**
 * A PDF's streams (`<< ... >> stream <data> endstream`) are mostly Flate-compressed, and zeros
 * compress about 1000:1: a 1 MB file can hold a stream that pdf.js would inflate into a 1 GiB
 * ArrayBuffer, outside the thread's heap limit. Before pdf.js sees the file, each stream whose data
 * starts with a zlib header is inflated here, counting and discarding, and refused past `maxBytes`.
 *
 * This is a fast first line, not the bound: it sees only unencrypted streams and the first Flate
 * layer. Whatever gets past it (encrypted streams, Flate inside Flate, other filters) is caught by
 * the parse thread's memory watch (worker-pool.ts, PARSE_MEMORY).
 */

const STREAM = Buffer.from('stream');
const END_STREAM = Buffer.from('endstream');
/** How far back from `stream` its dictionary is looked for. */
const DICT_LOOKBACK = 4096;

/** A zlib header (RFC 1950): deflate, window size within limits, check bits right, no preset dictionary. pdf.js insists on the same. */
const isZlibHeader = (b0: number | undefined, b1: number | undefined) =>
  b0 !== undefined && b1 !== undefined && (b0 & 0x0f) === 8 && b0 >> 4 <= 7 && ((b0 << 8) | b1) % 31 === 0 && (b1 & 0x20) === 0;

/**
 * Images are not decoded to extract text, and may legitimately be large: their streams are left
 * alone. The dictionary is the text between the object's `obj` keyword and `stream`.
 */
function isImage(pdf: Buffer, streamAt: number): boolean {
  const from = Math.max(0, streamAt - DICT_LOOKBACK);
  const objAt = pdf.lastIndexOf('obj', streamAt);
  const dict = pdf.toString('latin1', Math.max(from, objAt < 0 ? from : objAt), streamAt);
  return /\/Subtype\s*\/Image\b/.test(dict);
}

/** Where each stream's data starts and ends (up to `endstream`, or the end of the file). */
function* streamData(pdf: Buffer): Generator<{ at: number; data: Buffer }> {
  let from = 0;
  for (;;) {
    const at = pdf.indexOf(STREAM, from);
    if (at < 0) return;
    from = at + STREAM.length;
    if (at >= 3 && pdf.toString('latin1', at - 3, at) === 'end') continue;
    // The keyword is followed by CRLF or LF (a lone CR too, as readers accept it).
    let start = from;
    if (pdf[start] === 0x0d) start++;
    if (pdf[start] === 0x0a) start++;
    if (start === from) continue;
    const end = pdf.indexOf(END_STREAM, start);
    const data = pdf.subarray(start, end < 0 ? pdf.length : end);
    from = end < 0 ? pdf.length : end + END_STREAM.length;
    yield { at, data };
  }
}

/** Throws PDF_TOO_LARGE_INFLATED when a (non-image) Flate stream inflates to more than `maxBytes`. */
export async function checkFlateStreams(bytes: Uint8Array, maxBytes: number): Promise<void> {
  const pdf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const { at, data } of streamData(pdf)) {
    if (!isZlibHeader(data[0], data[1]) || isImage(pdf, at)) continue;
    try {
      await measureInflatedSize(data, maxBytes, 'zlib');
    } catch (err) {
      if (err instanceof InflateLimitError) {
        throw new ParseError('PDF_TOO_LARGE_INFLATED', `a stream of the PDF inflates to more than ${maxBytes} bytes`);
      }
      // Damaged data: pdf.js decides what it makes of it (it reads what inflates).
    }
  }
}
