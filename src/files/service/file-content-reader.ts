import type { Orm } from '../../db/orm';
import { StoredFile } from '../../db/entities';
import type { FileContentReader, FileExcerpt } from '../../tools/read-file';

const MAX_CHARS = 12_000;

/** The read_file tool's view of parsed files: one PDF page, CSV rows from a row, or the text. */
export class DbFileContentReader implements FileContentReader {
  constructor(private readonly orm: Orm) {}

  async read(roomId: string, fileId: string, opts: { page?: number; fromRow?: number }): Promise<FileExcerpt | null> {
    if (!/^[0-9a-f-]{36}$/i.test(fileId)) return null;
    const f = await this.orm.em.fork().findOne(StoredFile, { id: fileId, room: roomId });
    if (!f) return null;
    const base = { fileId: f.id, filename: f.filename, kind: f.kind, status: f.status };
    const p = f.parsed;
    if (f.status !== 'ready' || !p) {
      return { ...base, text: f.status === 'failed' ? `The file could not be parsed: ${f.errorMessage ?? f.errorCode}` : 'The file is still being processed.' };
    }
    if (p.pages?.length) {
      const page = Math.min(Math.max(opts.page ?? 1, 1), p.pages.length);
      const text = p.pages[page - 1]!.text.slice(0, MAX_CHARS);
      return { ...base, text, pages: p.pages.length, ...(page < p.pages.length ? { next: { page: page + 1 } } : {}) };
    }
    if (p.rows?.length) {
      const from = opts.fromRow ?? 0;
      const chunks = p.rows.filter((r) => r.to >= from);
      let text = p.header ? `Columns: ${p.header.join(', ')}\n` : '';
      let next: number | undefined;
      for (const c of chunks) {
        if (text.length + c.text.length > MAX_CHARS) {
          next = c.from;
          break;
        }
        text += c.text + '\n';
      }
      // Rows are numbered from 1 after the header, ranges inclusive.
      const total = p.rows.at(-1)!.to;
      return { ...base, text, rows: total, ...(next !== undefined ? { next: { fromRow: next } } : {}) };
    }
    return { ...base, text: (p.text ?? '').slice(0, MAX_CHARS) };
  }
}
