/**
 * Does the first row of a CSV name its columns? The same idea as Python's csv.Sniffer.has_header:
 * compare the first row against the rows below it, column by column. A column whose cells below
 * are all numbers (or all one length) votes "header" when the first cell is not; a first row that
 * fits its columns votes "data". When no column decides, a first row of distinct, non-empty,
 * non-numeric labels is taken as a header, as most CSV exports have one.
 */

const SAMPLE_ROWS = 20;
const NUMBER = /^[-+]?(\d+([.,]\d+)*|\d*\.\d+)([eE][-+]?\d+)?%?$/;

const isNumeric = (cell: string) => NUMBER.test(cell.trim());

type ColumnType = { kind: 'number' } | { kind: 'length'; length: number } | null;

function columnType(cells: string[]): ColumnType {
  if (cells.length === 0) return null;
  if (cells.every(isNumeric)) return { kind: 'number' };
  const length = cells[0]!.length;
  return cells.every((c) => c.length === length) ? { kind: 'length', length } : null;
}

function looksLikeLabels(first: string[]): boolean {
  const trimmed = first.map((c) => c.trim());
  return trimmed.every((c) => c !== '' && !isNumeric(c)) && new Set(trimmed).size === trimmed.length;
}

/** `rows` are the first rows of the file as parsed (at least the first one). */
export function detectHeader(rows: string[][]): boolean {
  const [first, ...rest] = rows;
  if (!first || rest.length === 0) return false;
  const sample = rest.slice(0, SAMPLE_ROWS);
  let votes = 0;
  let decided = false;
  first.forEach((headerCell, col) => {
    const cells = sample.map((r) => r[col]).filter((c): c is string => c !== undefined && c.trim() !== '');
    const type = columnType(cells);
    if (!type) return;
    decided = true;
    if (type.kind === 'number') votes += isNumeric(headerCell) ? -1 : 1;
    else votes += headerCell.length === type.length ? -1 : 1;
  });
  if (decided && votes !== 0) return votes > 0 && first.every((c) => c.trim() !== '');
  return looksLikeLabels(first);
}
