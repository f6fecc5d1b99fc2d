import { readFile } from 'node:fs/promises';
import type { ParsedContent } from '../../db/entities/file';
import { ParseError } from '../parse-error';
import { parseFile } from './parsers';
import type { ParseRequest, ParseSource } from './parsers/types';

/** The bytes to parse, read here in the thread: a stored file never passes through the main thread's memory. */
async function bytesOf(source: ParseSource): Promise<Uint8Array> {
  if (source instanceof Uint8Array) return source;
  try {
    return await readFile(source.path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ParseError('FILE_MISSING', 'the stored file is missing', { cause: err });
    throw err;
  }
}

/** The function a parse worker thread runs (loaded by pool-entry.mjs, never called on the main thread). */
export async function runParseTask(req: ParseRequest, reportProgress: (fraction: number) => void): Promise<ParsedContent> {
  return parseFile(req.kind, await bytesOf(req.source), { limits: req.limits, progress: reportProgress });
}
