import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RoomEvent, RoomEventName, RoomEventPayloads } from '../../../src/contract/events';
import type { Broadcaster } from '../../../src/events/broadcaster';
import { createLogger } from '../../../src/shared/logger';
import { TurnStream } from '../../../src/turns/turn-stream';

// An agent's end (its last text and `agent:end`) waits for the turn's next event, so that the
// turn's last agent ends in the same write as `turn:end` while the commit has the machine; never
// longer than the stream's hold, never out of order, never twice.

const END = (agentKey: string): RoomEventPayloads['agent:end'] => ({
  turnId: 't1',
  agentKey,
  messageId: `m-${agentKey}`,
  status: 'complete',
  finishReason: 'stop',
  usage: { inputTokens: 1, outputTokens: 1, costUsd: 0 },
});

function setup(flushMs = 40, holdMs = 50) {
  const published: { event: RoomEventName; text?: string; agentKey?: string }[] = [];
  let seq = 0;
  const broadcaster: Broadcaster = {
    async publish<E extends RoomEventName>(roomId: string, event: E, payload: RoomEventPayloads[E]) {
      const p = payload as { text?: string; agentKey?: string };
      published.push({ event, ...(p.text !== undefined ? { text: p.text } : {}), ...(p.agentKey ? { agentKey: p.agentKey } : {}) });
      return { ...payload, roomId, epoch: 'e', seq: ++seq, ts: 0 } as unknown as RoomEvent<E>;
    },
    close: async () => undefined,
  };
  const stream = new TurnStream(broadcaster, 'r1', 't1', flushMs, createLogger('silent'), holdMs);
  return { stream, published };
}

describe('TurnStream: an agent ends with the turn event that follows it', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('holds the last text and agent:end until the next event, then sends them before it, in order', async () => {
    const { stream, published } = setup();
    stream.emit('agent:start', { turnId: 't1', agentKey: 'a', modelAlias: 'm' });
    stream.delta('a', 'Hel');
    stream.delta('a', 'lo');
    stream.endAgent('a', END('a'));
    expect(published.map((p) => p.event)).toEqual(['agent:start']);
    stream.emit('agent:start', { turnId: 't1', agentKey: 'b', modelAlias: 'm' });
    expect(published).toEqual([
      { event: 'agent:start', agentKey: 'a' },
      { event: 'agent:delta', agentKey: 'a', text: 'Hello' },
      { event: 'agent:end', agentKey: 'a' },
      { event: 'agent:start', agentKey: 'b' },
    ]);
    // The text counts as streamed once its frame went out (a joining client's snapshot).
    await stream.drain();
    expect(stream.streamed().partialText).toEqual({ a: 'Hello' });
    // The coalescer's timer no longer holds that text: nothing is sent twice.
    vi.advanceTimersByTime(100);
    expect(published).toHaveLength(4);
  });

  it('sends the held end when asked (after the commit), and flushAll leaves it to that', () => {
    const { stream, published } = setup();
    stream.delta('a', 'last words');
    stream.endAgent('a', END('a'));
    stream.flushAll();
    expect(published).toEqual([]);
    stream.sendAgentEnd();
    stream.sendAgentEnd();
    expect(published).toEqual([
      { event: 'agent:delta', agentKey: 'a', text: 'last words' },
      { event: 'agent:end', agentKey: 'a' },
    ]);
  });

  it('sends the held end after its hold at the latest (a commit that takes long)', () => {
    const { stream, published } = setup(40, 50);
    stream.delta('a', 'x');
    stream.endAgent('a', END('a'));
    vi.advanceTimersByTime(49);
    expect(published).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(published.map((p) => p.event)).toEqual(['agent:delta', 'agent:end']);
    stream.sendAgentEnd();
    expect(published).toHaveLength(2);
  });

  it('an agent that ended without new text sends agent:end alone', () => {
    const { stream, published } = setup(0);
    stream.delta('a', 'streamed at once');
    stream.endAgent('a', END('a'));
    stream.emit('turn:plan', { turnId: 't1', agentKeys: [], fallback: false });
    expect(published.map((p) => p.event)).toEqual(['agent:delta', 'agent:end', 'turn:plan']);
  });

  it("with a hold of 0 (AGENT_END_HOLD_MS=0) sends an agent's end at once", () => {
    const { stream, published } = setup(40, 0);
    stream.delta('a', 'x');
    stream.endAgent('a', END('a'));
    expect(published.map((p) => p.event)).toEqual(['agent:delta', 'agent:end']);
  });
});
