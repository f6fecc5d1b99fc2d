import Papa from 'papaparse';
import type { ParsedContent } from '../../../db/entities/file';
import { ParseError } from '../../parse-error';
import { detectHeader } from './csv-header';
import { decodeUtf8 } from './text';
import type { Parser } from './types';

/** Rows per stored range: small enough to quote one range to a model, large enough to be few. */
export const CSV_ROWS_PER_RANGE = 100;
const HEADER_SAMPLE = 21;
const PROGRESS_EVERY_ROWS = 2000;

/**
 * CSV: delimiter detected by papaparse (comma, tab, semicolon, pipe), quoted fields with
 * delimiters, quotes and newlines inside, header row detected (see csv-header.ts). Data rows are
 * stored in ranges of CSV_ROWS_PER_RANGE, re-serialized as comma-separated text with 1-based row
 * numbers counted after the header. More than `csvMaxRows` data rows fails with CSV_TOO_MANY_ROWS.
 */
export const parseCsv: Parser = async (bytes, ctx) => {
  const { csvMaxRows, maxTextChars } = ctx.limits;
  const text = decodeUtf8(bytes);
  const all: string[][] = [];
  let malformed: string | undefined;
  let tooMany = false;

  // `step` sees one row at a time, so a file far past the cap stops being read at cap + 2 rows.
  Papa.parse<string[]>(text, {
    skipEmptyLines: 'greedy',
    step(result, parser) {
      const missingQuote = result.errors.find((e) => e.code === 'MissingQuotes');
      if (missingQuote) {
        malformed = `a quoted field that starts on data row ${all.length + 1} never closes`;
        parser.abort();
        return;
      }
      all.push(result.data);
      if (all.length > csvMaxRows + 1) {
        tooMany = true;
        parser.abort();
      } else if (all.length % PROGRESS_EVERY_ROWS === 0) {
        ctx.progress(Math.min(0.9, result.meta.cursor / text.length));
      }
    },
  });
  if (malformed) throw new ParseError('CSV_MALFORMED', malformed);

  const hasHeader = detectHeader(all.slice(0, HEADER_SAMPLE));
  const dataRows = hasHeader ? all.slice(1) : all;
  if (tooMany || dataRows.length > csvMaxRows) {
    throw new ParseError('CSV_TOO_MANY_ROWS', `the file has more than ${csvMaxRows} rows`);
  }

  const content: ParsedContent = { header: hasHeader ? all[0]! : null, rows: [] };
  let chars = 0;
  for (let from = 0; from < dataRows.length; from += CSV_ROWS_PER_RANGE) {
    const chunk = dataRows.slice(from, from + CSV_ROWS_PER_RANGE);
    const rangeText = Papa.unparse(chunk, { newline: '\n' });
    chars += rangeText.length;
    if (chars > maxTextChars) {
      content.truncated = true;
      break;
    }
    content.rows!.push({ from: from + 1, to: from + chunk.length, text: rangeText });
  }
  ctx.progress(1);
  return content;
};
