import { expect } from 'vitest';
import { TestClient } from './socket-client';
import type { TestApp } from './test-app';
import { eventsOf, type RoomSetup } from './turn-kit';

/**
 * A client that joins while a turn streams gets the turn in its snapshot with the text sent so
 * far; that text plus the later agent:delta frames equals what the turn commits.
 */
export async function joinMidTurn(joinVia: TestApp, r: RoomSetup, turnId: string, agentKey: string) {
  await r.client.until(() => eventsOf(r.client, turnId, 'agent:delta').length >= 3, 'some deltas');
  const late = new TestClient(joinVia.url, r.owner);
  await late.connected();
  const ack = await late.request('room:join', { roomId: r.roomId });
  expect(ack.mode).toBe('snapshot');
  const inflight = ack.snapshot.turnsInFlight.find((t: { turnId: string }) => t.turnId === turnId);
  expect(inflight, 'turn in the snapshot').toBeTruthy();
  expect(inflight.partialText[agentKey].length).toBeGreaterThan(0);
  // The partial text is exact up to its own seq, which may be past the snapshot's (frames sent
  // while the snapshot was built); later frames are appended from that seq on.
  expect(inflight.seq).toBeGreaterThan(0);
  return {
    late,
    /** partial text + later deltas, once turn:end arrived on the late client */
    async rebuilt(): Promise<string> {
      await late.until(() => eventsOf(late, turnId, 'turn:end').length === 1, 'turn:end on the late client');
      const later = eventsOf(late, turnId, 'agent:delta').filter((e) => e.data.agentKey === agentKey && e.data.seq > inflight.seq);
      return inflight.partialText[agentKey] + later.map((e) => e.data.text).join('');
    },
  };
}
