import type { FileKind } from '../../../src/db/entities/file';
import { parseFile } from '../../../src/files/parsing/parsers';
import { DEFAULT_PARSE_LIMITS, type ParseLimits } from '../../../src/files/parsing/parsers/types';
import { ParseError } from '../../../src/files/parse-error';

/** Parses in this thread with default limits (overridable) and records the progress reported. */
export async function parseHere(kind: FileKind, bytes: Uint8Array, limits: Partial<ParseLimits> = {}) {
  const progress: number[] = [];
  const content = await parseFile(kind, bytes, { limits: { ...DEFAULT_PARSE_LIMITS, ...limits }, progress: (f) => progress.push(f) });
  return { content, progress };
}

/** The ParseError a parse fails with (fails the test when it does not fail that way). */
export async function parseErrorOf(kind: FileKind, bytes: Uint8Array, limits: Partial<ParseLimits> = {}): Promise<ParseError> {
  try {
    await parseHere(kind, bytes, limits);
  } catch (err) {
    if (err instanceof ParseError) return err;
    throw new Error(`expected a ParseError, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected the parse to fail');
}
