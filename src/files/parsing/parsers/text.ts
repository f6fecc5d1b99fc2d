import { ParseError } from '../../parse-error';
import { capText, type Parser } from './types';

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * Decodes UTF-8 strictly: a file in another encoding fails with TEXT_ENCODING instead of being
 * stored with replacement characters. Drops a BOM and normalizes line ends to \n.
 */
export function decodeUtf8(bytes: Uint8Array): string {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    throw new ParseError('TEXT_ENCODING', 'the file is not valid UTF-8 text');
  }
  if (text.includes('\u0000')) throw new ParseError('TEXT_ENCODING', 'the file contains NUL characters');
  return text.replace(/\r\n?/g, '\n');
}

/** Plain text and Markdown: one chunk, kept verbatim (Markdown syntax is meaningful to a model). */
export const parseText: Parser = async (bytes, ctx) => {
  const { text, truncated } = capText(decodeUtf8(bytes), ctx.limits.maxTextChars);
  ctx.progress(1);
  return { pages: [{ page: 1, text }], ...(truncated ? { truncated } : {}) };
};
