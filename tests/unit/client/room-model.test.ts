import { describe, expect, it } from 'vitest';
import { RoomModel, type RoomEventSource } from '../../../src/client/room-model';
import type { RoomSnapshot } from '../../../src/client';

// The room model against a scripted event source: what an app draws from events and snapshots.
const roomId = '00000000-0000-4000-8000-0000000000aa';
const sessionId = '00000000-0000-4000-8000-0000000000bb';
const turnId = '00000000-0000-4000-8000-0000000000cc';

function source() {
  const handlers = new Map<string, Set<(e: never) => void>>();
  const snaps = new Set<(s: RoomSnapshot) => void>();
  let seq = 0;
  const src: RoomEventSource = {
    on: (event, h) => {
      if (!handlers.has(event)) handlers.set(event, new Set());
      handlers.get(event)!.add(h);
      return () => handlers.get(event)!.delete(h);
    },
    onSnapshot: (h) => (snaps.add(h), () => snaps.delete(h)),
  };
  return {
    src,
    emit(event: string, data: Record<string, unknown>, at?: { epoch: string; seq: number }) {
      const e = { roomId, epoch: at?.epoch ?? 'e1', seq: at?.seq ?? ++seq, ts: 0, ...data };
      for (const h of handlers.get(event) ?? []) (h as (x: unknown) => void)(e);
    },
    snapshot(s: Partial<RoomSnapshot>) {
      const full = { roomId, name: 'R', mode: 'manual', epoch: 'e1', seq: 0, agents: [], membersOnline: [], sessions: [], recentMessages: [], recentTurns: [], turnsInFlight: [], ...s } as RoomSnapshot;
      for (const h of snaps) h(full);
    },
  };
}

const agents = [{ key: 'writer', name: 'Writer', rolePrompt: '', modelAlias: 'fake', toolPermissions: ['read_file'], toolApprovals: {}, position: 0 }];
/** Fields every message DTO carries (attachments, versions, edits). */
const messageExtras = { attachments: [], version: 1, versionOf: null, editedAt: null, deletedAt: null };
const session = { id: sessionId, roomId, title: 'General', summary: null, summaryFallback: [], createdAt: '2026-01-01T00:00:00.000Z' };

describe('RoomModel', () => {
  it('assembles a turn: message, queue position, plan, a reply with its tool call, usage, the end', () => {
    const s = source();
    const m = new RoomModel(s.src, roomId);
    s.snapshot({ agents, sessions: [session] });
    s.emit('message:created', { message: { id: 'm1', sessionId, turnId, authorType: 'user', authorUserId: 'u1', agentKey: null, content: 'hi @writer', status: 'complete', modelAlias: null, clientMsgId: 'c1', createdAt: '2026-01-01T00:00:01.000Z', ...messageExtras } });
    s.emit('turn:queued', { turnId, sessionId, messageId: 'm1', position: 1 });
    expect(m.queuedTurns(sessionId).map((t) => t.position)).toEqual([1]);
    s.emit('turn:started', { turnId, sessionId, mode: 'manual' });
    s.emit('turn:plan', { turnId, agentKeys: ['writer'], fallback: false });
    s.emit('agent:start', { turnId, agentKey: 'writer', modelAlias: 'fake' });
    s.emit('tool:start', { turnId, agentKey: 'writer', toolCallId: 't1', toolName: 'read_file', input: { fileId: 'f' } });
    s.emit('tool:progress', { turnId, agentKey: 'writer', toolCallId: 't1', toolName: 'read_file', message: 'Reading', percent: 50 });
    s.emit('tool:end', { turnId, agentKey: 'writer', toolCallId: 't1', toolName: 'read_file', status: 'succeeded', latencyMs: 12 });
    s.emit('agent:delta', { turnId, agentKey: 'writer', text: 'Hello ' });
    s.emit('agent:delta', { turnId, agentKey: 'writer', text: 'there.' });
    expect(m.runningTurn(sessionId)?.plan).toEqual({ agentKeys: ['writer'], fallback: false });
    const usage = { inputTokens: 10, outputTokens: 3, costUsd: 0.001 };
    s.emit('agent:end', { turnId, agentKey: 'writer', messageId: 'm2', status: 'complete', finishReason: 'stop', usage });
    s.emit('turn:end', { turnId, sessionId, status: 'completed', usage });
    const [msg, reply] = m.timeline(sessionId);
    expect(msg).toMatchObject({ kind: 'message', key: 'm1' });
    expect(reply).toMatchObject({ kind: 'reply', agentName: 'Writer', modelAlias: 'fake', text: 'Hello there.', status: 'complete', messageId: 'm2' });
    expect(reply?.kind === 'reply' && reply.tools).toEqual([
      { toolCallId: 't1', toolName: 'read_file', input: { fileId: 'f' }, status: 'succeeded', progress: { message: 'Reading', percent: 50 }, latencyMs: 12 },
    ]);
    expect(m.turns.get(turnId)).toMatchObject({ status: 'completed', usage });
    expect(m.usage).toEqual(usage);
  });

  it('continues a turn in flight from a snapshot: frames up to its position are in the partial text, later ones are appended once', () => {
    const s = source();
    const m = new RoomModel(s.src, roomId);
    s.snapshot({
      agents,
      sessions: [session],
      seq: 10,
      recentMessages: [{ id: 'm1', sessionId, turnId, authorType: 'user', authorUserId: 'u1', agentKey: null, content: 'go', status: 'complete', modelAlias: null, clientMsgId: null, createdAt: '2026-01-01T00:00:01.000Z', ...messageExtras }],
      turnsInFlight: [{ turnId, sessionId, status: 'running', agentKey: 'writer', partialText: { writer: 'one two ' }, epoch: 'e1', seq: 12 }],
    });
    s.emit('agent:delta', { turnId, agentKey: 'writer', text: 'two ' }, { epoch: 'e1', seq: 12 }); // already in the partial text
    s.emit('agent:delta', { turnId, agentKey: 'writer', text: 'three' }, { epoch: 'e1', seq: 13 });
    expect(m.repliesOf(turnId).map((r) => r.text)).toEqual(['one two three']);
    // A turn that ends without its agent's end leaves the reply partial (or cancelled).
    s.emit('turn:end', { turnId, sessionId, status: 'cancelled', usage: { inputTokens: 0, outputTokens: 0, costUsd: 0 } }, { epoch: 'e1', seq: 14 });
    expect(m.repliesOf(turnId)[0]?.status).toBe('cancelled');
  });

  it('keeps presence, typing, files and the summary with its fields', () => {
    const s = source();
    const m = new RoomModel(s.src, roomId);
    s.snapshot({ sessions: [session], membersOnline: [{ userId: 'u1', role: 'owner', displayName: 'Ann', kind: 'human' }] });
    s.emit('presence', { userId: 'u2', displayName: 'Bo', kind: 'bot', state: 'joined' });
    s.emit('presence', { userId: 'u1', displayName: 'Ann', kind: 'human', state: 'left' });
    expect([...m.online.values()].map((u) => u.displayName)).toEqual(['Bo']);
    // A batch applies each change as a `presence` would.
    s.emit('presence:batch', {
      changes: [
        { userId: 'u3', displayName: 'Cy', kind: 'human', state: 'joined' },
        { userId: 'u2', displayName: 'Bo', kind: 'bot', state: 'left' },
        { userId: 'u1', displayName: 'Ann', kind: 'human', state: 'joined' },
      ],
    });
    expect([...m.online.values()].map((u) => u.displayName).sort()).toEqual(['Ann', 'Cy']);
    s.emit('presence', { userId: 'u2', displayName: 'Bo', kind: 'bot', state: 'joined' });
    s.emit('typing', { sessionId, userId: 'u2', on: true });
    expect(m.typingIn(sessionId).map((u) => u.displayName)).toEqual(['Bo']);
    m.trackUpload('f1', { filename: 'a.txt', state: 'queued', percent: 0 });
    s.emit('file:progress', { fileId: 'f1', stage: 'parsing', percent: 40 });
    expect(m.files.get('f1')).toMatchObject({ state: 'parsing', percent: 40 });
    s.emit('file:ready', { fileId: 'f1', filename: 'a.txt', kind: 'txt', status: 'ready' });
    s.emit('file:progress', { fileId: 'f1', stage: 'storing', percent: 90 }); // late: ready stays
    expect(m.files.get('f1')).toMatchObject({ state: 'ready' });
    const fields = { topics: ['launch'], decisions: ['ship'], openQuestions: ['when?'] };
    s.emit('summary:started', { turnId, sessionId });
    expect(m.summaries.get(sessionId)?.running).toBe(true);
    s.emit('summary:updated', { turnId, sessionId, summary: 'We ship.', usedFallback: false, fields });
    expect(m.summaries.get(sessionId)).toEqual({ running: false, text: 'We ship.', usedFallback: false, fields });
    // Events of other rooms are not this model's.
    s.emit('presence', { roomId: 'other', userId: 'u9', displayName: 'X', kind: 'human', state: 'joined' });
    expect(m.online.has('u9')).toBe(false);
  });
});
