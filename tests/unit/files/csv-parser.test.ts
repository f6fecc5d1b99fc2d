import { describe, expect, it } from 'vitest';
import { CSV_ROWS_PER_RANGE } from '../../../src/files/parsing/parsers/csv';
import { detectHeader } from '../../../src/files/parsing/parsers/csv-header';
import { csvWithRows, latin1Text, quotedCsv } from '../../helpers/file-fixtures';
import { parseErrorOf, parseHere } from './parse-helpers';

describe('CSV parser', () => {
  it('parses quoted fields with commas, doubled quotes and newlines inside', async () => {
    const { content } = await parseHere('csv', quotedCsv());
    expect(content.header).toEqual(['name', 'comment', 'amount']);
    expect(content.rows).toHaveLength(1);
    const range = content.rows![0]!;
    expect(range).toMatchObject({ from: 1, to: 3 });
    // Re-serialized as CSV: the cells survive intact, quoted again where needed.
    expect(range.text).toBe('"Smith, John","He said ""hi""",10\n"Doe, Jane","line one\nline two",20\nPlain,simple,30');
  });

  it('stores rows in numbered ranges after the header', async () => {
    const { content } = await parseHere('csv', csvWithRows(CSV_ROWS_PER_RANGE * 2 + 5));
    expect(content.header).toEqual(['id', 'label', 'value']);
    expect(content.rows?.map((r) => [r.from, r.to])).toEqual([
      [1, 100],
      [101, 200],
      [201, 205],
    ]);
    expect(content.rows![2]!.text.split('\n')[0]).toBe('201,item 201,603');
  });

  it('detects tab and semicolon delimiters', async () => {
    const { content } = await parseHere('csv', Buffer.from('city;temp\nOslo;4\nRome;19\n'));
    expect(content.header).toEqual(['city', 'temp']);
    expect(content.rows![0]!.text).toBe('Oslo,4\nRome,19');
    const tabs = await parseHere('csv', Buffer.from('a\tb\n1\t2\n'));
    expect(tabs.content.header).toEqual(['a', 'b']);
  });

  it('treats a first row of data as data', async () => {
    const { content } = await parseHere('csv', Buffer.from('1,2,3\n4,5,6\n'));
    expect(content.header).toBeNull();
    expect(content.rows![0]).toMatchObject({ from: 1, to: 2, text: '1,2,3\n4,5,6' });
  });

  it('fails with CSV_TOO_MANY_ROWS past the row cap, and accepts exactly the cap', async () => {
    const err = await parseErrorOf('csv', csvWithRows(101), { csvMaxRows: 100 });
    expect(err.code).toBe('CSV_TOO_MANY_ROWS');
    const { content } = await parseHere('csv', csvWithRows(100), { csvMaxRows: 100 });
    expect(content.rows!.at(-1)!.to).toBe(100);
  });

  it('fails with CSV_MALFORMED for a quote that never closes', async () => {
    const err = await parseErrorOf('csv', Buffer.from('a,b\n1,"never closed\n2,3\n'));
    expect(err.code).toBe('CSV_MALFORMED');
  });

  it('fails with TEXT_ENCODING for a CSV that is not UTF-8', async () => {
    expect((await parseErrorOf('csv', latin1Text())).code).toBe('TEXT_ENCODING');
  });
});

describe('CSV header detection', () => {
  it.each([
    ['numeric columns under labels', [['name', 'age'], ['ann', '31'], ['bob', '45']], true],
    ['all-text rows with distinct labels', [['name', 'city'], ['Alice', 'Paris'], ['Bob', 'Berlin']], true],
    ['numbers all the way down', [['1', '2'], ['3', '4']], false],
    ['a first row with an empty cell', [['x', ''], ['Alice', 'Paris'], ['Bob', 'Rome']], false],
    ['fixed-length codes with a first row of the same length', [['AB12', 'CD34'], ['EF56', 'GH78']], false],
    ['a single row', [['name', 'city']], false],
  ])('%s', (_label, rows, expected) => {
    expect(detectHeader(rows)).toBe(expected);
  });
});
