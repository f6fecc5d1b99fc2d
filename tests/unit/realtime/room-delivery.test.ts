import type { Namespace, Socket } from 'socket.io';
import { describe, expect, it } from 'vitest';
import type { RoomEvent } from '../../../src/contract/events';
import { RoomDelivery } from '../../../src/realtime/room-delivery';

// A joining socket holds the room's events in memory until its replay or snapshot is answered:
// that buffer has a cap, past which the join starts over from a fresh snapshot.
describe('RoomDelivery holding a joining socket', () => {
  const emitted: unknown[] = [];
  const nsp = (() => ({ local: { to: () => ({ emit: (...args: unknown[]) => emitted.push(args) }) } })) as unknown as () => Namespace;
  const positions = { delivered: () => ({ epoch: 'e1', seq: 0 }), follow: async () => undefined };
  const event = (seq: number) => ({ roomId: 'r', epoch: 'e1', seq, ts: 0, name: `n${seq}` }) as unknown as RoomEvent;

  it('holds up to the cap, then lets the buffer go and marks the join overflowed', () => {
    const delivery = new RoomDelivery(nsp, positions, 5);
    const held = delivery.hold({} as Socket, 'r');
    for (let seq = 1; seq <= 5; seq++) delivery.deliver('r', 'room:updated', event(seq));
    expect(held.buffer).toHaveLength(5);
    expect(held.overflowed).toBe(false);
    delivery.deliver('r', 'room:updated', event(6));
    delivery.deliver('r', 'room:updated', event(7));
    expect(held.overflowed).toBe(true);
    expect(held.buffer).toHaveLength(0);
    // The room's live sockets got every event all the same.
    expect(emitted).toHaveLength(7);
  });

  it('holds each joining socket apart', () => {
    const delivery = new RoomDelivery(nsp, positions, 2);
    const early = delivery.hold({} as Socket, 'r');
    delivery.deliver('r', 'room:updated', event(1));
    delivery.deliver('r', 'room:updated', event(2));
    const late = delivery.hold({} as Socket, 'r');
    delivery.deliver('r', 'room:updated', event(3));
    expect(early.overflowed).toBe(true);
    expect(late.overflowed).toBe(false);
    expect(late.buffer.map((b) => b.data.seq)).toEqual([3]);
  });
});
