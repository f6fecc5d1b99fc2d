import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClient } from '../../helpers/socket-client';
import { startTwoNodes, type TestApp } from '../../helpers/test-app';

// Each node keeps what joins of a room read (roles, the room's snapshot parts) until a room event
// changes it. A change made on node A is never served stale by node B once B has its event: the
// kept parts and roles are dropped by the event itself.
describe('what joins keep, across two nodes', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    ({ a, b } = await startTwoNodes());
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('serves a join on node B the room, role and membership changed on node A, never the kept ones', async () => {
    const owner = a.token('kept-owner', { name: 'Owner' });
    const roomId = (await a.api(owner, 'POST', '/rooms', { name: 'Before' })).body.id as string;
    const sessionId = (await a.api(owner, 'POST', `/rooms/${roomId}/sessions`, { title: 's' })).body.id as string;
    const memberToken = b.token('kept-member', { name: 'Mo' });
    const memberId = (await b.api(memberToken, 'GET', '/auth/me')).body.user.id as string;
    expect((await a.api(owner, 'POST', `/rooms/${roomId}/members`, { userId: memberId, role: 'member' })).status).toBe(201);
    // An observer on node B: once it has an event, node B has it too.
    const observer = new TestClient(b.url, owner);
    const member = new TestClient(b.url, memberToken);
    const rejoin = async () => {
      const left = await member.request('room:leave', { roomId });
      expect(left.ok).toBe(true);
      return member.request('room:join', { roomId });
    };
    try {
      await Promise.all([observer.connected(), member.connected()]);
      expect((await observer.request('room:join', { roomId })).ok).toBe(true);
      // Two joins on B: the second is served from what B keeps.
      let ack = await member.request('room:join', { roomId });
      expect(ack.ok && ack.snapshot.name).toBe('Before');
      ack = await rejoin();
      expect(ack.ok && ack.snapshot.name).toBe('Before');
      expect((await member.request('typing', { roomId, sessionId, on: true })).ok).toBe(true);

      // The room renamed on A: B's next join shows the new name.
      expect((await a.api(owner, 'PATCH', `/rooms/${roomId}`, { name: 'After' })).status).toBe(200);
      await observer.until(() => observer.roomEvents(roomId, 'room:updated').some((e) => e.data.name === 'After'), 'the rename on B');
      ack = await rejoin();
      expect(ack.ok && ack.snapshot.name).toBe('After');

      // The member made a viewer on A: B's next join holds the new role (viewers may not type).
      expect((await a.api(owner, 'PATCH', `/rooms/${roomId}/members/${memberId}`, { role: 'viewer' })).status).toBe(200);
      await observer.until(() => observer.roomEvents(roomId, 'member:updated').some((e) => e.data.role === 'viewer'), 'the role change on B');
      ack = await rejoin();
      expect(ack.ok).toBe(true);
      const typed = await member.request('typing', { roomId, sessionId, on: true });
      expect(typed.ok ? 'ok' : typed.error.code).toBe('FORBIDDEN');

      // Removed on A: B refuses the next join as it would a stranger's.
      expect((await a.api(owner, 'DELETE', `/rooms/${roomId}/members/${memberId}`)).status).toBeLessThan(300);
      await observer.until(() => observer.roomEvents(roomId, 'member:removed').some((e) => e.data.userId === memberId), 'the removal on B');
      const refused = await member.request('room:join', { roomId });
      expect(refused.ok ? 'ok' : refused.error.code).toBe('ROOM_NOT_FOUND');

      // Added back on A as a member: B lets them in with that role.
      expect((await a.api(owner, 'POST', `/rooms/${roomId}/members`, { userId: memberId, role: 'member' })).status).toBe(201);
      await observer.until(() => observer.roomEvents(roomId, 'member:added').some((e) => e.data.member.userId === memberId), 'the new membership on B');
      ack = await member.request('room:join', { roomId });
      expect(ack.ok).toBe(true);
      expect((await member.request('typing', { roomId, sessionId, on: false })).ok).toBe(true);
    } finally {
      member.close();
      observer.close();
    }
  });

  it('lists a message sent on node A in the next snapshot of node B', async () => {
    const owner = a.token('kept-msg-owner', { name: 'Owner' });
    const roomId = (await a.api(owner, 'POST', '/rooms', { name: 'Messages' })).body.id as string;
    const sessionId = (await a.api(owner, 'POST', `/rooms/${roomId}/sessions`, { title: 's' })).body.id as string;
    const onA = new TestClient(a.url, owner);
    const observer = new TestClient(b.url, owner);
    const joiner = new TestClient(b.url, owner);
    try {
      await Promise.all([onA.connected(), observer.connected(), joiner.connected()]);
      expect((await observer.request('room:join', { roomId })).ok).toBe(true);
      let ack = await joiner.request('room:join', { roomId });
      expect(ack.ok && ack.snapshot.recentMessages).toEqual([]);
      expect((await joiner.request('room:leave', { roomId })).ok).toBe(true);
      expect((await onA.request('room:join', { roomId })).ok).toBe(true);
      const sent = await onA.request('message:send', { roomId, sessionId, content: 'hello from A', clientMsgId: `kept-${Date.now()}` });
      expect(sent.ok).toBe(true);
      await observer.until(() => observer.roomEvents(roomId, 'message:created').some((e) => e.data.message.content === 'hello from A'), 'the message on B');
      ack = await joiner.request('room:join', { roomId });
      expect(ack.ok).toBe(true);
      expect(ack.snapshot.recentMessages.map((m: { content: string }) => m.content)).toContain('hello from A');

      // A session created on A (announced as session:created) is listed in B's next snapshot.
      expect((await joiner.request('room:leave', { roomId })).ok).toBe(true);
      const created = (await a.api(owner, 'POST', `/rooms/${roomId}/sessions`, { title: 'made on A' })).body.id as string;
      await observer.until(() => observer.roomEvents(roomId, 'session:created').some((e) => e.data.session.id === created), 'the new session on B');
      ack = await joiner.request('room:join', { roomId });
      expect(ack.ok).toBe(true);
      expect(ack.snapshot.sessions.map((x: { id: string }) => x.id)).toContain(created);
    } finally {
      onA.close();
      observer.close();
      joiner.close();
    }
  });
});
