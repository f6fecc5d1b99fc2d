import { describe, expect, it } from 'vitest';
import type { RoomEvent, RoomEventName } from '../../../src/contract/events';
import { JoinCache } from '../../../src/realtime/join-cache';

const ev = (seq: number, extra: Record<string, unknown> = {}, epoch = 'e1') => ({ roomId: 'r', epoch, seq, ts: 0, ...extra }) as unknown as RoomEvent;

describe('JoinCache', () => {
  it('keeps snapshot parts across presence events and drops them on any other event or a break in the stream', async () => {
    const c = new JoinCache<string>();
    let reads = 0;
    const build = async () => `v${++reads}`;
    expect(await c.parts('r', { epoch: 'e1', seq: 5 }, build)).toBe('v1');
    expect(await c.parts('r', { epoch: 'e1', seq: 5 }, build)).toBe('v1');
    c.observe('r', 'presence', ev(6));
    c.observe('r', 'presence:batch', ev(7));
    c.observe('r', 'agent:delta', ev(8));
    expect(await c.parts('r', { epoch: 'e1', seq: 8 }, build)).toBe('v1');
    c.observe('r', 'message:created', ev(9));
    expect(await c.parts('r', { epoch: 'e1', seq: 9 }, build)).toBe('v2');
    // A seq that jumps: events this node did not see.
    c.observe('r', 'presence', ev(11));
    expect(await c.parts('r', { epoch: 'e1', seq: 11 }, build)).toBe('v3');
    // A new epoch.
    c.observe('r', 'presence', ev(1, {}, 'e2'));
    expect(await c.parts('r', { epoch: 'e2', seq: 1 }, build)).toBe('v4');
    // A join point this node has not seen in order (it began to follow the room there).
    expect(await c.parts('r', { epoch: 'e2', seq: 9 }, build)).toBe('v5');
    expect(await c.parts('r', { epoch: 'e2', seq: 9 }, build)).toBe('v5');
  });

  it('does not keep a read that an event overtook, and lets concurrent joins share one read', async () => {
    const c = new JoinCache<string>();
    let release!: (v: string) => void;
    let reads = 0;
    const slow = () => (reads++, new Promise<string>((r) => (release = r)));
    const at = { epoch: 'e1', seq: 1 };
    const first = c.parts('r', at, slow);
    const second = c.parts('r', at, slow);
    expect(reads).toBe(1);
    c.observe('r', 'presence', ev(2));
    c.observe('r', 'room:updated', ev(3, { name: 'new' }));
    release('old');
    expect(await first).toBe('old');
    expect(await second).toBe('old');
    expect(await c.parts('r', { epoch: 'e1', seq: 3 }, async () => 'fresh')).toBe('fresh');
  });

  it("keeps a member's role until an event about that member, and not a read an event overtook", async () => {
    const c = new JoinCache<string>();
    await c.parts('r', { epoch: 'e1', seq: 1 }, async () => 'p');
    expect(await c.role('r', 'u1', async () => 'member')).toBe('member');
    expect(await c.role('r', 'u1', async () => 'owner')).toBe('member');
    expect(await c.roles('r', ['u1', 'u2'], async (ids) => new Map(ids.map((id) => [id, 'viewer' as const])))).toEqual(
      new Map([['u1', 'member'], ['u2', 'viewer']]),
    );
    const events: [RoomEventName, RoomEvent][] = [
      ['member:updated', ev(2, { userId: 'u1', role: 'viewer' })],
      ['member:removed', ev(3, { userId: 'u2' })],
    ];
    for (const [e, d] of events) c.observe('r', e, d);
    expect(await c.role('r', 'u1', async () => 'viewer')).toBe('viewer');
    await expect(c.role('r', 'u2', async () => Promise.reject(new Error('ROOM_NOT_FOUND')))).rejects.toThrow('ROOM_NOT_FOUND');
    // A read answered after an event about the member is not kept.
    let answer!: (v: 'admin') => void;
    const pending = c.role('r', 'u3', () => new Promise((r) => (answer = r)));
    c.observe('r', 'member:added', ev(4, { member: { userId: 'u3' } }));
    answer('admin');
    expect(await pending).toBe('admin');
    expect(await c.role('r', 'u3', async () => 'member')).toBe('member');
    // The room's deletion drops everything.
    c.observe('r', 'room:deleted', ev(5));
    expect(await c.role('r', 'u1', async () => 'owner')).toBe('owner');
  });
});
