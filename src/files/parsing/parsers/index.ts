import type { FileKind, ParsedContent } from '../../../db/entities/file';
import type { ParseContext, Parser } from './types';

/**
 * Each parser is imported only when a file of its kind arrives: a parse thread for a CSV does not
 * pay for loading pdf.js and mammoth.
 */
const LOADERS: Record<FileKind, () => Promise<Parser>> = {
  pdf: async () => (await import('./pdf')).parsePdf,
  docx: async () => (await import('./docx')).parseDocx,
  csv: async () => (await import('./csv')).parseCsv,
  txt: async () => (await import('./text')).parseText,
  md: async () => (await import('./text')).parseText,
};

/** Parsers loaded so far: a thread's later files of a kind skip the module loader (its resolve hooks included). */
const loaded = new Map<FileKind, Parser>();

/** Parses in the calling thread. The server never calls this directly: see parse-runner.ts. */
export async function parseFile(kind: FileKind, bytes: Uint8Array, ctx: ParseContext): Promise<ParsedContent> {
  let parse = loaded.get(kind);
  if (!parse) loaded.set(kind, (parse = await LOADERS[kind]()));
  return parse(bytes, ctx);
}

export { DEFAULT_PARSE_LIMITS, type ParseContext, type ParseLimits, type Parser, type ParseRequest } from './types';
