import type { FileKind, ParsedContent } from '../../db/entities/file';
import { parseCsv } from './csv';
import { parseDocx } from './docx';
import { parsePdf } from './pdf';
import { parseText } from './text';
import type { ParseContext, Parser } from './types';

export const PARSERS: Record<FileKind, Parser> = {
  pdf: parsePdf,
  docx: parseDocx,
  csv: parseCsv,
  txt: parseText,
  md: parseText,
};

/** Parses in the calling thread. The server never calls this directly: see parse-runner.ts. */
export function parseFile(kind: FileKind, bytes: Uint8Array, ctx: ParseContext): Promise<ParsedContent> {
  return PARSERS[kind](bytes, ctx);
}

export { DEFAULT_PARSE_LIMITS, type ParseContext, type ParseLimits, type Parser, type ParseRequest } from './types';
