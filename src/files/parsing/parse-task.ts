import type { ParsedContent } from '../../db/entities/file';
import { parseFile } from './parsers';
import type { ParseRequest } from './parsers/types';

/** The function a parse worker thread runs (loaded by pool-entry.mjs, never called on the main thread). */
export function runParseTask(req: ParseRequest, reportProgress: (fraction: number) => void): Promise<ParsedContent> {
  return parseFile(req.kind, req.bytes, { limits: req.limits, progress: reportProgress });
}
