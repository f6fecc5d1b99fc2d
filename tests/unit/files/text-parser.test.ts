import { describe, expect, it } from 'vitest';
import { latin1Text } from '../../helpers/file-fixtures';
import { parseErrorOf, parseHere } from './parse-helpers';

describe('text and Markdown parser', () => {
  it('keeps Markdown verbatim, drops a BOM and normalizes line ends', async () => {
    const md = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('# Title\r\n\r\n- item one\r\n- item **two**\r\n')]);
    const { content, progress } = await parseHere('md', md);
    expect(content.pages).toEqual([{ page: 1, text: '# Title\n\n- item one\n- item **two**\n' }]);
    expect(progress).toEqual([1]);
  });

  it('keeps non-ASCII text', async () => {
    const { content } = await parseHere('txt', Buffer.from('naïve café — 東京 🎉'));
    expect(content.pages?.[0]?.text).toBe('naïve café — 東京 🎉');
  });

  it('fails with TEXT_ENCODING for text that is not UTF-8', async () => {
    const err = await parseErrorOf('txt', latin1Text());
    expect(err.code).toBe('TEXT_ENCODING');
    expect(err.retryable).toBe(false);
  });

  it('cuts long text without splitting a surrogate pair', async () => {
    const { content } = await parseHere('txt', Buffer.from('ab🎉cd'), { maxTextChars: 3 });
    expect(content).toEqual({ pages: [{ page: 1, text: 'ab' }], truncated: true });
  });
});
