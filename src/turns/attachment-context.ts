import type { ParsedContent } from '../db/entities';

/** A file attached to the turn's message, as its agents get it: its text within the budget. */
export interface PromptAttachment {
  id: string;
  filename: string;
  kind: string;
  /** The file's parsed text, or as much of it as the budget left. */
  text: string;
  /** True when `text` is not the whole file: the rest is read with read_file. */
  truncated: boolean;
}

/** The parsed content as one text: PDF pages marked with their number, CSV header and rows, or the text. */
export function parsedText(p: ParsedContent | null | undefined): string {
  if (!p) return '';
  if (p.pages?.length) return p.pages.map((pg) => `[page ${pg.page}]\n${pg.text}`).join('\n\n');
  if (p.rows?.length) return [p.header?.length ? `Columns: ${p.header.join(', ')}` : '', ...p.rows.map((r) => r.text)].filter(Boolean).join('\n');
  return p.text ?? '';
}

/**
 * The attached files' text, in the order attached, within `budget` characters in all: each file
 * gets what the ones before it left, and a file cut short (or left with nothing) is marked
 * `truncated`, so its agents read the rest with read_file.
 */
export function attachmentsWithin(
  files: readonly { id: string; filename: string; kind: string; parsed: ParsedContent | null | undefined }[],
  budget: number,
): PromptAttachment[] {
  let left = budget;
  return files.map((f) => {
    const whole = parsedText(f.parsed);
    const text = whole.slice(0, Math.max(0, left));
    left -= text.length;
    return { id: f.id, filename: f.filename, kind: f.kind, text, truncated: text.length < whole.length || Boolean(f.parsed?.truncated) };
  });
}
