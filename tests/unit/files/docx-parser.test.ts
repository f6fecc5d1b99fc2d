import { describe, expect, it } from 'vitest';
import { buildDocx, buildZip, docxParts, sampleDocx, zipBombDocx } from '../../helpers/file-fixtures';
import { parseErrorOf, parseHere } from './parse-helpers';

describe('DOCX parser', () => {
  it('keeps headings with their level, paragraphs and table rows, in document order', async () => {
    const { content, progress } = await parseHere('docx', sampleDocx());
    expect(content.pages).toEqual([
      {
        page: 1,
        text: [
          '# Quarterly Report',
          'Revenue grew in every region this quarter.',
          '## Figures by region',
          'Region | Revenue | Growth\nNorth | 1200 | 4%\nSouth | 950 | 7%',
          'Prepared by the finance team.',
        ].join('\n\n'),
      },
    ]);
    expect(progress.at(-1)).toBe(1);
  });

  it('reads a document whose entries are stored, not deflated', async () => {
    const parts = docxParts([{ paragraph: 'stored entry text' }]).map((p) => ({ ...p, method: 'store' as const }));
    const { content } = await parseHere('docx', buildZip(parts));
    expect(content.pages?.[0]?.text).toBe('stored entry text');

  });

  it('refuses a zip bomb from its declared sizes, before inflating it', async () => {
    const err = await parseErrorOf('docx', await zipBombDocx());
    expect(err.code).toBe('DOCX_ZIP_BOMB');
    // "declares": the directory check, which runs before anything is inflated.
    expect(err.message).toMatch(/declares/);
  });

  it('refuses a zip bomb that lies about its sizes, by inflating it with a cap', async () => {
    const err = await parseErrorOf('docx', await zipBombDocx({ size: 20 * 1024 * 1024, lie: true }));
    expect(err.code).toBe('DOCX_ZIP_BOMB');
    expect(err.message).toMatch(/inflates to more than/);
  });

  it('refuses a document declaring more uncompressed bytes than allowed', async () => {
    const err = await parseErrorOf('docx', sampleDocx(), { docxMaxUncompressedBytes: 1000 });
    expect(err.code).toBe('DOCX_ZIP_BOMB');
  });

  it('refuses a zip with too many entries', async () => {
    const many = Array.from({ length: 20 }, (_, i) => ({ name: `junk/${i}.xml`, data: '<x/>' }));
    const err = await parseErrorOf('docx', buildZip([...docxParts([{ paragraph: 'x' }]), ...many]), { docxMaxEntries: 10 });
    expect(err.code).toBe('DOCX_ZIP_BOMB');
  });

  it('fails with DOCX_CORRUPT for a zip without word/document.xml', async () => {
    const err = await parseErrorOf('docx', buildZip([{ name: 'a.txt', data: 'x' }]));
    expect(err.code).toBe('DOCX_CORRUPT');
  });

  it('fails with DOCX_CORRUPT for a truncated document', async () => {
    const whole = buildDocx([{ paragraph: 'cut short' }]);
    const err = await parseErrorOf('docx', whole.subarray(0, whole.length - 30));
    expect(err.code).toBe('DOCX_CORRUPT');
  });

  it('fails with DOCX_CORRUPT when document.xml is not XML', async () => {
    const parts = docxParts([]).map((p) => (p.name === 'word/document.xml' ? { ...p, data: 'this is <not xml' } : p));
    const err = await parseErrorOf('docx', buildZip(parts));
    expect(err.code).toBe('DOCX_CORRUPT');
  });
});
