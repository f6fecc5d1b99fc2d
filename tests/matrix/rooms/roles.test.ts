import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MEMBER_ROLES, type MemberRole } from '../../../src/contract/enums';
import { ROOM_PERMISSIONS } from '../../../src/domain/permissions';
import { TestClient } from '../../helpers/socket-client';
import { startTestApp, type TestApp } from '../../helpers/test-app';
import { clientMsgId, send, turnEnd } from '../../helpers/turn-kit';
import { uploadFile } from '../../helpers/upload-suite';

/**
 * Every role against every action, over REST and over sockets. The expected table is written out
 * here rather than read from src/domain/permissions.ts, so it pins the table as well as its use.
 */
type Outcome = 'ok' | string;

interface Member {
  role: MemberRole;
  token: string;
  userId: string;
  client: TestClient;
}

describe('room roles', () => {
  let app: TestApp;
  let owner: Member;
  const members = {} as Record<MemberRole, Member>;
  let roomId: string;
  let sessionId: string;
  /** A turn sent by the member (others' turn for owner, admin, viewer). */
  let memberTurn: string;
  /** A turn the viewer sent while still a member: their own turn. */
  let viewerTurn: string;
  /** A session and a file the viewer made while still a member. */
  let viewerSession: string;
  let viewerFile: string;
  let n = 0;
  const uniq = () => `${Date.now().toString(36)}${n++}`;

  const me = async (token: string) => (await app.api(token, 'GET', '/auth/me')).body.user.id as string;
  const outcome = (r: { status: number; body: any }): Outcome => (r.status < 300 ? 'ok' : r.body.error.code);
  const ackOutcome = (a: any): Outcome => (a.ok ? 'ok' : a.error.code);

  /** A fresh user, added to the room by the owner with `role`. */
  const addUser = async (role: MemberRole = 'member') => {
    const token = app.token(`u-${uniq()}`, { name: 'Spare' });
    const userId = await me(token);
    const r = await app.api(owner.token, 'POST', `/rooms/${roomId}/members`, { userId, role });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return { token, userId };
  };
  const addAgent = async () => {
    const key = `a${uniq()}`;
    const r = await app.api(owner.token, 'POST', `/rooms/${roomId}/agents`, { key, name: `Agent ${key}` });
    expect(r.status).toBe(201);
    return key;
  };

  const sessionBy = async (m: Member) => (await app.api(m.token, 'POST', `/rooms/${roomId}/sessions`, { title: `s ${uniq()}` })).body.id as string;
  const fileBy = async (m: Member) => (await uploadFile(app, m.token, roomId, 'f.txt', Buffer.from(`file ${uniq()}`))).body.id as string;

  beforeAll(async () => {
    app = await startTestApp();
    const ownerToken = app.token('roles-owner', { name: 'Olivia' });
    const room = await app.api(ownerToken, 'POST', '/rooms', { name: 'Roles', mode: 'manual' });
    roomId = room.body.id;
    owner = { role: 'owner', token: ownerToken, userId: await me(ownerToken), client: new TestClient(app.url, ownerToken) };
    members.owner = owner;
    sessionId = (await app.api(ownerToken, 'POST', `/rooms/${roomId}/sessions`, { title: 'work' })).body.id;
    for (const role of ['admin', 'member', 'viewer'] as const) {
      // The viewer starts as a member and sends a turn of their own, then is made a viewer.
      const { token, userId } = await addUser(role === 'viewer' ? 'member' : role);
      members[role] = { role, token, userId, client: new TestClient(app.url, token) };
    }
    for (const m of Object.values(members)) {
      await m.client.connected();
      expect((await m.client.request('room:join', { roomId })).ok).toBe(true);
    }
    memberTurn = (await send(members.member.client, roomId, sessionId, 'hello from the member')).turnId;
    viewerTurn = (await send(members.viewer.client, roomId, sessionId, 'hello from the future viewer')).turnId;
    viewerSession = (await app.api(members.viewer.token, 'POST', `/rooms/${roomId}/sessions`, { title: 'mine' })).body.id;
    viewerFile = (await uploadFile(app, members.viewer.token, roomId, 'mine.txt', Buffer.from(`viewer ${uniq()}`))).body.id;
    const demote = await app.api(owner.token, 'PATCH', `/rooms/${roomId}/members/${members.viewer.userId}`, { role: 'viewer' });
    expect(demote.body).toMatchObject({ userId: members.viewer.userId, role: 'viewer' });
    // The viewer's own socket hears of its new role as a room event.
    await members.viewer.client.until(
      () => members.viewer.client.roomEvents(roomId, 'member:updated').some((e) => e.data.userId === members.viewer.userId && e.data.role === 'viewer'),
      'member:updated to viewer',
    );
    await turnEnd(owner.client, memberTurn);
    await turnEnd(owner.client, viewerTurn);
  });
  afterAll(async () => {
    for (const m of Object.values(members)) m.client.close();
    await app?.close();
  });

  const ALL: MemberRole[] = ['owner', 'admin', 'member', 'viewer'];
  const STAFF: MemberRole[] = ['owner', 'admin'];
  const TAKING_PART: MemberRole[] = ['owner', 'admin', 'member'];

  /** Each action: the roles allowed, and how one member tries it. */
  const actions: { name: string; allowed: MemberRole[]; denied?: string; run(m: Member): Promise<Outcome> }[] = [
    // REST
    { name: 'GET /rooms/:id', allowed: ALL, run: async (m) => outcome(await app.api(m.token, 'GET', `/rooms/${roomId}`)) },
    { name: 'GET /rooms/:id/members', allowed: ALL, run: async (m) => outcome(await app.api(m.token, 'GET', `/rooms/${roomId}/members`)) },
    { name: 'GET /sessions/:id/messages', allowed: ALL, run: async (m) => outcome(await app.api(m.token, 'GET', `/sessions/${sessionId}/messages`)) },
    { name: 'PATCH /rooms/:id', allowed: STAFF, run: async (m) => outcome(await app.api(m.token, 'PATCH', `/rooms/${roomId}`, { name: `Roles ${uniq()}` })) },
    {
      name: 'PATCH /rooms/:id settings',
      allowed: STAFF,
      run: async (m) => outcome(await app.api(m.token, 'PATCH', `/rooms/${roomId}`, { settings: { busyPolicy: 'queue' } })),
    },
    { name: 'POST /rooms/:id/agents', allowed: STAFF, run: async (m) => outcome(await app.api(m.token, 'POST', `/rooms/${roomId}/agents`, { key: `k${uniq()}`, name: 'K' })) },
    {
      name: 'PATCH /rooms/:id/agents/:key',
      allowed: STAFF,
      run: async (m) => outcome(await app.api(m.token, 'PATCH', `/rooms/${roomId}/agents/${await addAgent()}`, { name: 'Renamed' })),
    },
    {
      name: 'DELETE /rooms/:id/agents/:key',
      allowed: STAFF,
      run: async (m) => outcome(await app.api(m.token, 'DELETE', `/rooms/${roomId}/agents/${await addAgent()}`)),
    },
    {
      name: 'POST /rooms/:id/members (a member)',
      allowed: STAFF,
      run: async (m) => outcome(await app.api(m.token, 'POST', `/rooms/${roomId}/members`, { sub: `new-${uniq()}`, role: 'member' })),
    },
    {
      name: 'POST /rooms/:id/members (an owner)',
      allowed: ['owner'],
      run: async (m) => outcome(await app.api(m.token, 'POST', `/rooms/${roomId}/members`, { sub: `new-${uniq()}`, role: 'owner' })),
    },
    {
      name: 'PATCH /rooms/:id/members/:userId (member to viewer)',
      allowed: STAFF,
      run: async (m) => outcome(await app.api(m.token, 'PATCH', `/rooms/${roomId}/members/${(await addUser('member')).userId}`, { role: 'viewer' })),
    },
    {
      name: 'PATCH /rooms/:id/members/:userId (member to owner)',
      allowed: ['owner'],
      run: async (m) => outcome(await app.api(m.token, 'PATCH', `/rooms/${roomId}/members/${(await addUser('member')).userId}`, { role: 'owner' })),
    },
    {
      name: 'PATCH /rooms/:id/members/:userId (owner to member)',
      allowed: ['owner'],
      run: async (m) => outcome(await app.api(m.token, 'PATCH', `/rooms/${roomId}/members/${(await addUser('owner')).userId}`, { role: 'member' })),
    },
    {
      name: 'DELETE /rooms/:id/members/:userId (another member)',
      allowed: STAFF,
      run: async (m) => outcome(await app.api(m.token, 'DELETE', `/rooms/${roomId}/members/${(await addUser('member')).userId}`)),
    },
    {
      name: 'DELETE /rooms/:id/members/:userId (an owner)',
      allowed: ['owner'],
      run: async (m) => outcome(await app.api(m.token, 'DELETE', `/rooms/${roomId}/members/${(await addUser('owner')).userId}`)),
    },
    { name: 'POST /rooms/:id/sessions', allowed: TAKING_PART, run: async (m) => outcome(await app.api(m.token, 'POST', `/rooms/${roomId}/sessions`, { title: 's' })) },
    {
      name: 'POST /rooms/:id/files',
      allowed: TAKING_PART,
      run: async (m) => outcome(await uploadFile(app, m.token, roomId, 'notes.txt', Buffer.from(`notes ${uniq()}`))),
    },
    {
      name: "PATCH /sessions/:id (another member's)",
      allowed: STAFF,
      run: async (m) => outcome(await app.api(m.token, 'PATCH', `/sessions/${await sessionBy(m.role === 'owner' ? members.member : owner)}`, { title: 'renamed' })),
    },
    {
      name: "DELETE /sessions/:id (another member's)",
      allowed: STAFF,
      run: async (m) => outcome(await app.api(m.token, 'DELETE', `/sessions/${await sessionBy(m.role === 'owner' ? members.member : owner)}`)),
    },
    {
      name: 'DELETE /sessions/:id (their own)',
      allowed: TAKING_PART,
      run: async (m) => outcome(await app.api(m.token, 'DELETE', `/sessions/${m.role === 'viewer' ? viewerSession : await sessionBy(m)}`)),
    },
    {
      name: "DELETE /files/:id (another member's)",
      allowed: STAFF,
      run: async (m) => outcome(await app.api(m.token, 'DELETE', `/files/${await fileBy(m.role === 'owner' ? members.member : owner)}`)),
    },
    {
      name: 'DELETE /files/:id (their own)',
      allowed: TAKING_PART,
      run: async (m) => outcome(await app.api(m.token, 'DELETE', `/files/${m.role === 'viewer' ? viewerFile : await fileBy(m)}`)),
    },
    {
      name: 'GET /files/:id/content',
      allowed: ALL,
      run: async (m) => {
        const res = await fetch(`${app.url}/api/v1/files/${viewerFile}/content`, { headers: { authorization: `Bearer ${m.token}` } });
        return res.status === 200 ? 'ok' : ((await res.json()) as any).error.code;
      },
    },
    {
      name: 'DELETE /rooms/:id',
      allowed: ['owner'],
      run: async (m) => {
        const room = await app.api(owner.token, 'POST', '/rooms', { name: 'Doomed' });
        if (m.role !== 'owner') await app.api(owner.token, 'POST', `/rooms/${room.body.id}/members`, { userId: m.userId, role: m.role });
        return outcome(await app.api(m.token, 'DELETE', `/rooms/${room.body.id}`));
      },
    },
    // Sockets
    { name: 'room:join', allowed: ALL, run: async (m) => ackOutcome(await m.client.request('room:join', { roomId, lastSeq: 0, epoch: 'x' })) },
    {
      name: 'message:send',
      allowed: TAKING_PART,
      run: async (m) => ackOutcome(await m.client.request('message:send', { roomId, sessionId, clientMsgId: clientMsgId(), content: 'hi' })),
    },
    { name: 'typing', allowed: TAKING_PART, run: async (m) => ackOutcome(await m.client.request('typing', { roomId, sessionId, on: true })) },
    {
      name: "turn:cancel (another member's turn)",
      allowed: STAFF,
      run: async (m) => ackOutcome(await m.client.request('turn:cancel', { roomId, turnId: m.role === 'member' ? viewerTurn : memberTurn })),
    },
    {
      name: 'turn:cancel (their own turn)',
      allowed: TAKING_PART,
      run: async (m) =>
        ackOutcome(await m.client.request('turn:cancel', { roomId, turnId: m.role === 'viewer' ? viewerTurn : m.role === 'member' ? memberTurn : (await send(m.client, roomId, sessionId, 'mine')).turnId })),
    },
  ];

  for (const action of actions) {
    it(`${action.name}: ${action.allowed.join(', ')}`, async () => {
      const got: Record<string, Outcome> = {};
      for (const role of MEMBER_ROLES) got[role] = await action.run(members[role]);
      const want = Object.fromEntries(MEMBER_ROLES.map((r) => [r, action.allowed.includes(r) ? 'ok' : 'FORBIDDEN']));
      expect(got).toEqual(want);
    });
  }

  it('refuses a viewer with a message that names the role and the action', async () => {
    const ack = await members.viewer.client.request('message:send', { roomId, sessionId, clientMsgId: clientMsgId(), content: 'may I?' });
    expect(ack.error).toMatchObject({ code: 'FORBIDDEN', message: 'A viewer may not send messages, type or start sessions in this room' });
    const up = await uploadFile(app, members.viewer.token, roomId, 'v.txt', Buffer.from('v'));
    expect(up.body.error.message).toBe('A viewer may not upload files to this room');
    const cancel = await members.viewer.client.request('turn:cancel', { roomId, turnId: viewerTurn });
    expect(cancel.error.message).toBe('A viewer may not cancel turns in this room');
  });

  it('matches the permission table of src/domain/permissions.ts', () => {
    expect(ROOM_PERMISSIONS).toEqual({
      'room.update': STAFF,
      'room.delete': ['owner'],
      'agents.manage': STAFF,
      'members.manage': STAFF,
      'messages.send': TAKING_PART,
      'files.upload': TAKING_PART,
      'files.delete': STAFF,
      'turns.cancel_any': STAFF,
      'turns.regenerate': TAKING_PART,
      'sessions.manage': STAFF,
      'tools.approve': TAKING_PART,
    });
  });

  it('keeps one owner: the last owner can neither step down nor leave (LAST_OWNER)', async () => {
    const token = app.token(`solo-${uniq()}`);
    const room = await app.api(token, 'POST', '/rooms', { name: 'Solo' });
    const id = await me(token);
    const down = await app.api(token, 'PATCH', `/rooms/${room.body.id}/members/${id}`, { role: 'admin' });
    expect([down.status, down.body.error.code]).toEqual([409, 'LAST_OWNER']);
    const leave = await app.api(token, 'DELETE', `/rooms/${room.body.id}/members/${id}`);
    expect([leave.status, leave.body.error.code]).toEqual([409, 'LAST_OWNER']);
    // With a second owner, the first may step down.
    const other = app.token(`second-${uniq()}`);
    await app.api(token, 'POST', `/rooms/${room.body.id}/members`, { userId: await me(other), role: 'owner' });
    const ok = await app.api(token, 'PATCH', `/rooms/${room.body.id}/members/${id}`, { role: 'admin' });
    expect(ok.body).toMatchObject({ role: 'admin' });
    const roles = (await app.api(other, 'GET', `/rooms/${room.body.id}/members`)).body.items.map((m: any) => m.role).sort();
    expect(roles).toEqual(['admin', 'owner']);
  });

  it('refuses bad role bodies and unknown members, changing nothing', async () => {
    const target = await addUser('member');
    const bad = await app.api(owner.token, 'PATCH', `/rooms/${roomId}/members/${target.userId}`, { role: 'god' });
    expect([bad.status, bad.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
    const extra = await app.api(owner.token, 'PATCH', `/rooms/${roomId}/members/${target.userId}`, { role: 'viewer', x: 1 });
    expect(extra.status).toBe(400);
    const stranger = await app.api(owner.token, 'PATCH', `/rooms/${roomId}/members/${await me(app.token(`s-${uniq()}`))}`, { role: 'viewer' });
    expect([stranger.status, stranger.body.error.code]).toEqual([404, 'USER_NOT_FOUND']);
    const list = (await app.api(owner.token, 'GET', `/rooms/${roomId}/members`)).body.items;
    expect(list.find((m: any) => m.userId === target.userId).role).toBe('member');
  });

  it('treats bots as members with a role, and refuses rooms to bot tokens by default', async () => {
    const bot = app.token(`bot-${uniq()}`, { name: 'Robo', bot: true });
    const create = await app.api(bot, 'POST', '/rooms', { name: 'Bot room' });
    expect([create.status, create.body.error.code]).toEqual([403, 'FORBIDDEN']);
    expect(create.body.error.message).toContain('BOTS_MAY_CREATE_ROOMS');
    const botId = await me(bot);
    await app.api(owner.token, 'POST', `/rooms/${roomId}/members`, { userId: botId, role: 'viewer' });
    const c = new TestClient(app.url, bot);
    try {
      await c.connected();
      expect((await c.request('room:join', { roomId })).ok).toBe(true);
      const refused = await c.request('message:send', { roomId, sessionId, clientMsgId: clientMsgId(), content: 'beep' });
      expect(refused.error.code).toBe('FORBIDDEN');
      await app.api(owner.token, 'PATCH', `/rooms/${roomId}/members/${botId}`, { role: 'member' });
      await c.until(() => c.roomEvents(roomId, 'member:updated').some((e) => e.data.userId === botId && e.data.role === 'member'), 'bot promoted');
      const sent = await c.request('message:send', { roomId, sessionId, clientMsgId: clientMsgId(), content: 'beep' });
      expect(sent.ok).toBe(true);
    } finally {
      c.close();
    }
  });

  it('announces member:added, member:updated and member:removed to the room', async () => {
    const { userId } = await addUser('viewer');
    await app.api(owner.token, 'PATCH', `/rooms/${roomId}/members/${userId}`, { role: 'admin' });
    await app.api(owner.token, 'DELETE', `/rooms/${roomId}/members/${userId}`);
    const c = members.member.client;
    await c.until(() => c.roomEvents(roomId, 'member:removed').some((e) => e.data.userId === userId), 'member:removed');
    const seen = c.roomEvents(roomId).filter((e) => e.event.startsWith('member:') && (e.data.userId ?? e.data.member?.userId) === userId);
    expect(seen.map((e) => e.event)).toEqual(['member:added', 'member:updated', 'member:removed']);
    expect(seen[0]!.data.member).toMatchObject({ userId, role: 'viewer', displayName: 'Spare', kind: 'human' });
    expect(seen[1]!.data).toMatchObject({ userId, role: 'admin' });
  });

  it('applies a promotion to a joined socket without a rejoin', async () => {
    const { token, userId } = await addUser('viewer');
    const c = new TestClient(app.url, token);
    try {
      await c.connected();
      await c.request('room:join', { roomId });
      expect((await c.request('typing', { roomId, sessionId, on: true })).error.code).toBe('FORBIDDEN');
      await app.api(owner.token, 'PATCH', `/rooms/${roomId}/members/${userId}`, { role: 'member' });
      await c.until(() => c.roomEvents(roomId, 'member:updated').some((e) => e.data.userId === userId), 'member:updated');
      expect((await c.request('typing', { roomId, sessionId, on: false })).ok).toBe(true);
    } finally {
      c.close();
    }
  });
});
