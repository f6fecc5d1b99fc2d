import { describe, expect, it } from 'vitest';
import type { LoggedRoomEvent } from '../../../src/contract/events';
import { mergeDeltas } from '../../../src/events/replay-log';

const env = (seq: number) => ({ roomId: 'r', epoch: 'e', seq, ts: 1000 + seq });
const delta = (seq: number, text: string, turnId = 't1', agentKey = 'a'): LoggedRoomEvent => ({ event: 'agent:delta', data: { ...env(seq), turnId, agentKey, text } });
const start = (seq: number, agentKey: string): LoggedRoomEvent => ({ event: 'agent:start', data: { ...env(seq), turnId: 't1', agentKey, modelAlias: 'm' } }) as LoggedRoomEvent;
const textOf = (events: LoggedRoomEvent[]) => events.map((e) => (e.event === 'agent:delta' ? (e.data as { text: string }).text : `|${e.event}|`)).join('');

describe('mergeDeltas', () => {
  it('joins consecutive deltas of one turn and agent, keeping the text, the last seq and the first as fromSeq', () => {
    const events = [start(1, 'a'), delta(2, 'Hel'), delta(3, 'lo '), delta(4, 'world'), start(5, 'b'), delta(6, 'B1', 't1', 'b'), delta(7, 'x', 't2', 'b'), delta(8, 'y', 't2', 'b')];
    const merged = mergeDeltas(events);
    expect(textOf(merged)).toBe(textOf(events));
    expect(merged.map((e) => [e.event, e.data.fromSeq ?? null, e.data.seq])).toEqual([
      ['agent:start', null, 1],
      ['agent:delta', 2, 4],
      ['agent:start', null, 5],
      ['agent:delta', null, 6],
      ['agent:delta', 7, 8],
    ]);
    expect(merged[1]!.data.ts).toBe(1004);
  });

  it('never spans a seq gap, another epoch, or a seq the caller ends runs at', () => {
    expect(mergeDeltas([delta(1, 'a'), delta(3, 'b')])).toHaveLength(2);
    const other = { event: 'agent:delta', data: { ...delta(2, 'b').data, epoch: 'f' } } as LoggedRoomEvent;
    expect(mergeDeltas([delta(1, 'a'), other])).toHaveLength(2);
    const runs = mergeDeltas([delta(1, 'a'), delta(2, 'b'), delta(3, 'c'), delta(4, 'd')], { endsAt: new Set([2]) });
    expect(runs.map((e) => [e.data.fromSeq, e.data.seq, (e.data as { text: string }).text])).toEqual([
      [1, 2, 'ab'],
      [3, 4, 'cd'],
    ]);
  });
});
