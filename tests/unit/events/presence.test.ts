import { describe, expect, it } from 'vitest';
import { MemoryPresence } from '../../../src/events/presence';

describe('MemoryPresence', () => {
  it('announces first and last sockets, counts users online and lists at most a page of them', async () => {
    const p = new MemoryPresence();
    const user = (k: number) => ({ userId: `u${k}`, displayName: `U${k}`, kind: 'human' as const });
    for (let k = 0; k < 5; k++) expect(await p.enter('r', user(k))).toBe(true);
    expect(await p.enter('r', user(0))).toBe(false);
    expect(await p.online('r', 3)).toEqual({ count: 5, users: [user(0), user(1), user(2)] });
    expect(await p.exit('r', 'u0')).toBe(false);
    expect(await p.exit('r', 'u0')).toBe(true);
    expect(await p.exit('r', 'u0')).toBe(false);
    expect((await p.online('r', 10)).count).toBe(4);
    expect(await p.online('other', 10)).toEqual({ count: 0, users: [] });
    // Which users are present now, and who they are (a presence batch is published from it).
    expect(await p.present('r', ['u0', 'u1', 'nobody'])).toEqual(new Map([['u1', user(1)]]));
    expect(await p.present('other', ['u1'])).toEqual(new Map());
  });
});
