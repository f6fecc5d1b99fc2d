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

/**
 * Progress leaves the thread at most once per this interval (and always at 1): each message costs
 * both threads a wake-up, and a parser reports after every page or chunk (a 40-page PDF parsed in
 * 50 ms sent 40 messages, about 5% of the parse's CPU). Listeners publish in steps of 10% anyway.
 */
export const PROGRESS_INTERVAL_MS = 100;

/** Passes on the first fraction, then one per PROGRESS_INTERVAL_MS, and 1 (done) always. */
export function throttleProgress(report: (fraction: number) => void, intervalMs = PROGRESS_INTERVAL_MS): (fraction: number) => void {
  let last = -Infinity;
  return (fraction) => {
    const now = performance.now();
    if (fraction < 1 && now - last < intervalMs) return;
    last = now;
    report(fraction);
  };
}

/** The function a parse worker thread runs (loaded by pool-entry.mjs, never called on the main thread). */
export async function runParseTask(req: ParseRequest, reportProgress: (fraction: number) => void): Promise<ParsedContent> {
  return parseFile(req.kind, await bytesOf(req.source), { limits: req.limits, progress: throttleProgress(reportProgress) });
}
