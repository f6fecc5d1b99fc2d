import { z } from 'zod';
import type { Redactor } from '../shared/redactor';
import { instrumentTool, type ToolGuard } from './tool-events';

/**
 * `read_file`: reads the parsed content of a file uploaded to the same room. Parsing and storage
 * belong to src/files; this tool only sees them through FileContentReader.
 */

export interface FileExcerpt {
  fileId: string;
  filename: string;
  kind: string;
  status: 'queued' | 'parsing' | 'ready' | 'failed';
  /** The requested part: a PDF page, CSV rows from `fromRow`, or the text of other formats. */
  text: string;
  /** Where the next part starts, when there is more. */
  next?: { page?: number; fromRow?: number };
  /** Total pages (PDF) or rows (CSV), when known. */
  pages?: number;
  rows?: number;
}

export interface FileContentReader {
  /**
   * The file's parsed content if it belongs to `roomId`; null when there is no such file in that
   * room (another room's file must look exactly like a missing one).
   */
  read(roomId: string, fileId: string, opts: { page?: number; fromRow?: number }): Promise<FileExcerpt | null>;
}

export const readFileSchema = z.object({
  fileId: z.string().trim().min(1).max(64).describe('The id of a file uploaded to this room'),
  page: z.number().int().min(1).optional().describe('PDF page to read (default 1)'),
  fromRow: z.number().int().min(0).optional().describe('CSV row to start from (default 0)'),
});

/** Most characters handed to the model per read; the excerpt says how to read on. */
export const READ_FILE_MAX_CHARS = 12_000;

export function readFileTool(roomId: string, reader: FileContentReader, redactor: Redactor, guard?: ToolGuard) {
  return instrumentTool({
    name: 'read_file',
    description:
      'Read the content of a file uploaded to this room, by file id. For PDFs pass `page`; for CSV files pass `fromRow` to read further rows.',
    schema: readFileSchema,
    async run(input, ctx) {
      ctx.progress(`Reading file ${input.fileId}`, 0);
      const excerpt = await reader.read(roomId, input.fileId, { page: input.page, fromRow: input.fromRow });
      if (!excerpt) throw new Error(`No file with id ${input.fileId} in this room`);
      if (excerpt.status !== 'ready') throw new Error(`File ${excerpt.filename} is not readable yet (status: ${excerpt.status})`);
      const truncated = excerpt.text.length > READ_FILE_MAX_CHARS;
      const text = truncated ? `${excerpt.text.slice(0, READ_FILE_MAX_CHARS)}\n[…cut at ${READ_FILE_MAX_CHARS} characters]` : excerpt.text;
      const where = [
        input.page !== undefined ? `page ${input.page}${excerpt.pages ? ` of ${excerpt.pages}` : ''}` : '',
        input.fromRow !== undefined ? `rows from ${input.fromRow}${excerpt.rows ? ` of ${excerpt.rows}` : ''}` : '',
      ].filter(Boolean);
      const more = excerpt.next
        ? `\n[More: call read_file again with ${excerpt.next.page !== undefined ? `page ${excerpt.next.page}` : `fromRow ${excerpt.next.fromRow}`}]`
        : '';
      ctx.progress(`Read ${excerpt.filename}`, 100);
      return {
        content: `File ${excerpt.filename} (${excerpt.kind}${where.length ? `, ${where.join(', ')}` : ''}):\n${text}${more}`,
        summary: { fileId: excerpt.fileId, filename: excerpt.filename, chars: excerpt.text.length, truncated, ...(excerpt.next ? { next: excerpt.next } : {}) },
      };
    },
  }, redactor, guard);
}
