import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClient } from '../../helpers/socket-client';
import { startTwoNodes, type TestApp } from '../../helpers/test-app';
import { clientMsgId } from '../../helpers/turn-kit';

// A role changed over REST on node A applies at once to the member's sockets on node B, which keep
// their role (socket.data) and never rejoin.
describe('role changes across two nodes', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    ({ a, b } = await startTwoNodes());
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('refuses a member demoted to viewer on node A at once on node B, and lets them act again when promoted', async () => {
    const owner = a.token('live-owner', { name: 'Owner' });
    const room = await a.api(owner, 'POST', '/rooms', { name: 'Live roles' });
    const roomId = room.body.id as string;
    const sessionId = (await a.api(owner, 'POST', `/rooms/${roomId}/sessions`, { title: 's' })).body.id as string;
    const memberToken = b.token('live-member', { name: 'Mia' });
    const memberId = (await b.api(memberToken, 'GET', '/auth/me')).body.user.id as string;
    expect((await a.api(owner, 'POST', `/rooms/${roomId}/members`, { userId: memberId, role: 'member' })).status).toBe(201);
    const onB = new TestClient(b.url, memberToken);
    try {
      await onB.connected();
      expect((await onB.request('room:join', { roomId })).ok).toBe(true);
      expect((await onB.request('typing', { roomId, sessionId, on: true })).ok).toBe(true);
      const sent = await onB.request('message:send', { roomId, sessionId, clientMsgId: clientMsgId(), content: 'before' });
      expect(sent.ok).toBe(true);

      const demote = await a.api(owner, 'PATCH', `/rooms/${roomId}/members/${memberId}`, { role: 'viewer' });
      expect(demote.body).toMatchObject({ userId: memberId, role: 'viewer' });
      // At once: the very next send on B is refused, before B has even heard of the change.
      const refused = await onB.request('message:send', { roomId, sessionId, clientMsgId: clientMsgId(), content: 'after' });
      expect(refused.error).toMatchObject({ code: 'FORBIDDEN', details: { role: 'viewer', action: 'messages.send' } });
      // B's socket keeps the new role: typing (checked against it alone) is refused too.
      await onB.until(() => onB.roomEvents(roomId, 'member:updated').some((e) => e.data.userId === memberId && e.data.role === 'viewer'), 'member:updated on B');
      const typing = await onB.request('typing', { roomId, sessionId, on: false });
      expect(typing.error?.code).toBe('FORBIDDEN');
      // Still in the room: a viewer receives everything.
      await a.api(owner, 'PATCH', `/rooms/${roomId}`, { name: 'Renamed' });
      await onB.until(() => onB.roomEvents(roomId, 'room:updated').some((e) => e.data.name === 'Renamed'), 'room:updated on B');

      await a.api(owner, 'PATCH', `/rooms/${roomId}/members/${memberId}`, { role: 'member' });
      await onB.until(() => onB.roomEvents(roomId, 'member:updated').some((e) => e.data.userId === memberId && e.data.role === 'member'), 'promoted on B');
      expect((await onB.request('typing', { roomId, sessionId, on: true })).ok).toBe(true);
      expect((await onB.request('message:send', { roomId, sessionId, clientMsgId: clientMsgId(), content: 'again' })).ok).toBe(true);
    } finally {
      onB.close();
    }
  });
});
