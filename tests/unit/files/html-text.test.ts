import { describe, expect, it } from 'vitest';
import { htmlToText } from '../../../src/files/parsing/parsers/html-text';

describe('htmlToText (mammoth HTML to model-friendly text)', () => {
  it('writes headings, list items and paragraphs as blocks', () => {
    const html = '<h2>Plan</h2><p>First <strong>bold</strong> &amp; <em>more</em>.</p><ul><li>one</li><li>two</li></ul>';
    expect(htmlToText(html)).toBe('## Plan\n\nFirst bold & more.\n\n- one\n\n- two');
  });

  it('writes one line per table row and folds a nested table into its cell', () => {
    const html =
      '<table><tr><th><p>k</p></th><th><p>v</p></th></tr>' +
      '<tr><td><p>a</p><p>b</p></td><td><table><tr><td>x</td><td>y</td></tr><tr><td>z</td></tr></table></td></tr></table>';
    expect(htmlToText(html)).toBe('k | v\na b | x | y; z');
  });

  it('decodes named and numeric entities and keeps line breaks', () => {
    expect(htmlToText('<p>&lt;tag&gt; &#233;&#x1F389;<br />next</p>')).toBe('<tag> é🎉\nnext');
  });
});
