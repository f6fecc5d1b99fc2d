import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AppConfig } from '../../../src/config/config';
import type { AppSocket } from '../../../src/realtime/context';
import { InboundGuard } from '../../../src/realtime/inbound-guard';

const limits = { socketEventsPerSecond: 3, userEventsPerSecond: 5, invalidSocketEvents: 2, socketsPerUser: 2 } as AppConfig['limits'];
const socket = (id: string, userId: string) => ({ id, data: { userId } }) as unknown as AppSocket;
const outcome = (p: Promise<void>) => p.then(() => 'ok', (e: { code?: string; details?: unknown }) => `${e.code} ${JSON.stringify(e.details)}`);

describe('InboundGuard event budget', () => {
  afterEach(() => vi.useRealTimers());

  it('refuses past the socket budget and past the user budget over all their sockets, until the next second', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const guard = new InboundGuard(limits);
    const a1 = socket('s1', 'u1');
    const a2 = socket('s2', 'u1');
    const b = socket('s3', 'u2');
    const sent: string[] = [];
    for (let i = 0; i < 4; i++) sent.push(await outcome(guard.admit(a1)));
    expect(sent).toEqual(['ok', 'ok', 'ok', 'RATE_LIMITED {"retryAfterSeconds":1}']);
    // The refused event spent the socket's budget only: u1 has used 3 of 5.
    expect(await outcome(guard.admit(a2))).toBe('ok');
    expect(await outcome(guard.admit(a2))).toBe('ok');
    expect(await outcome(guard.admit(a2))).toBe('RATE_LIMITED {"retryAfterSeconds":1}');
    // Another user is not affected.
    expect(await outcome(guard.admit(b))).toBe('ok');
    vi.advanceTimersByTime(999);
    expect(await outcome(guard.admit(a1))).toMatch(/^RATE_LIMITED/);
    vi.advanceTimersByTime(1);
    expect(await outcome(guard.admit(a1))).toBe('ok');
    expect(await outcome(guard.admit(a2))).toBe('ok');
  });
});
