import type { FileKind, ParsedContent } from '../../../db/entities/file';

/** Limits every parser honours. The configurable ones come from AppConfig.limits. */
export interface ParseLimits {
  csvMaxRows: number;
  pdfMaxPages: number;
  /** PDF: bytes one compressed stream may inflate to (checked before pdf.js reads the file). */
  pdfMaxStreamBytes: number;
  /** Text kept per file; beyond it the content is cut and marked `truncated`. */
  maxTextChars: number;
  /** DOCX: total uncompressed bytes of all entries, declared or actual. */
  docxMaxUncompressedBytes: number;
  /** DOCX: uncompressed / compressed, per entry; XML rarely passes 30, bombs pass 1000. */
  docxMaxRatio: number;
  docxMaxEntries: number;
}

export const DEFAULT_PARSE_LIMITS: ParseLimits = {
  csvMaxRows: 50_000,
  pdfMaxPages: 500,
  pdfMaxStreamBytes: 128 * 1024 * 1024,
  maxTextChars: 2_000_000,
  docxMaxUncompressedBytes: 100 * 1024 * 1024,
  docxMaxRatio: 200,
  docxMaxEntries: 10_000,
};

export interface ParseContext {
  limits: ParseLimits;
  /** How far the parse is, from 0 to 1. Cheap to call often: callers throttle. */
  progress(fraction: number): void;
}

export type Parser = (bytes: Uint8Array, ctx: ParseContext) => Promise<ParsedContent>;

/** What a parse thread reads: a stored file by its path (the server's case), or bytes handed over. */
export type ParseSource = Uint8Array | { path: string };

export interface ParseRequest {
  kind: FileKind;
  source: ParseSource;
  limits: ParseLimits;
}

/** Cuts text at `max` characters without splitting a surrogate pair. */
export function capText(text: string, max: number): { text: string; truncated: boolean } {
  if (text.length <= max) return { text, truncated: false };
  let end = max;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return { text: text.slice(0, end), truncated: true };
}
