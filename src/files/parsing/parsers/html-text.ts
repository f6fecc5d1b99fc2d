/**
 * Turns the small, well-formed HTML that mammoth writes into text a model reads well: headings as
 * Markdown `#` lines, list items as `- ` lines, each table row as one line of cells joined by
 * " | " (a nested table goes into its cell), paragraphs separated by a blank line. Not a general
 * HTML converter: mammoth emits no scripts, comments or attributes that carry text.
 */

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
    if (name[0] === '#') {
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[name.toLowerCase()] ?? whole;
  });
}

interface Table {
  rows: string[][];
  row: string[] | null;
  cell: string | null;
}

export function htmlToText(html: string): string {
  const blocks: string[] = [];
  const tables: Table[] = [];
  let text = '';
  let prefix = '';

  /** Ends the current paragraph-like block: into the open table cell, or as a block of its own. */
  const flush = () => {
    const t = text.replace(/[ \t]+/g, ' ').trim();
    text = '';
    const table = tables.at(-1);
    if (t && table?.cell != null) table.cell += (table.cell ? ' ' : '') + t.replace(/\s*\n\s*/g, ' ');
    else if (t) blocks.push(prefix + t);
    prefix = '';
  };

  for (const token of html.split(/(<[^>]*>)/)) {
    if (!token.startsWith('<')) {
      text += decodeEntities(token);
      continue;
    }
    const m = /^<(\/?)([a-z0-9]+)/i.exec(token);
    if (!m) continue;
    const closing = m[1] === '/';
    const tag = m[2]!.toLowerCase();
    const table = tables.at(-1);
    if (/^h[1-6]$/.test(tag)) {
      flush();
      if (!closing) prefix = '#'.repeat(Number(tag[1])) + ' ';
    } else if (tag === 'p' || tag === 'ul' || tag === 'ol') {
      flush();
    } else if (tag === 'li') {
      flush();
      if (!closing) prefix = '- ';
    } else if (tag === 'br') {
      text += '\n';
    } else if (tag === 'table') {
      flush();
      if (!closing) tables.push({ rows: [], row: null, cell: null });
      else {
        const done = tables.pop();
        const rendered = (done?.rows ?? []).map((r) => r.join(' | ')).join('\n');
        const outer = tables.at(-1);
        if (outer?.cell != null) outer.cell += (outer.cell ? ' ' : '') + rendered.replace(/\n/g, '; ');
        else if (rendered) blocks.push(rendered);
      }
    } else if (tag === 'tr' && table) {
      if (!closing) table.row = [];
      else if (table.row) table.rows.push(table.row), (table.row = null);
    } else if ((tag === 'td' || tag === 'th') && table) {
      flush();
      if (!closing) table.cell = '';
      else (table.row ??= []).push(table.cell ?? ''), (table.cell = null);
    }
    // Inline tags (strong, em, a, sup, sub, s, img) only wrap text: the text stays, the tag goes.
  }
  flush();
  return blocks.join('\n\n');
}
