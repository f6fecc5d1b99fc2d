import { describe, expect, it } from 'vitest';
import { throttleProgress } from '../../../src/files/parsing/parse-task';

describe('progress leaving a parse thread', () => {
  it('passes the first fraction and 1, and drops what comes within the interval', () => {
    const sent: number[] = [];
    const report = throttleProgress((f) => sent.push(f), 1e9);
    for (let page = 1; page <= 40; page++) report(page / 40);
    expect(sent).toEqual([1 / 40, 1]);
  });

  it('passes every fraction when the interval has passed each time', () => {
    const sent: number[] = [];
    const report = throttleProgress((f) => sent.push(f), 0);
    for (const f of [0.25, 0.5, 0.75, 1]) report(f);
    expect(sent).toEqual([0.25, 0.5, 0.75, 1]);
  });
});
