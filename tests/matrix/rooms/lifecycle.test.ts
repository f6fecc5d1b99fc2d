import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Session, StoredFile, ToolApproval, ToolCallEvent, Turn } from '../../../src/db/entities';
import { DiskFileStore } from '../../../src/files/upload/file-store';
import type { RecordedRequest } from '../../helpers/fake-openai';
import { startFakeOpenAI, type FakeOpenAI } from '../../helpers/fake-openai';
import { TestClient } from '../../helpers/socket-client';
import { startTestApp, type TestApp } from '../../helpers/test-app';
import { eventsOf, fakeModelsEnv, send, setupRoom, turnEnd } from '../../helpers/turn-kit';
import { uploadFile } from '../../helpers/upload-suite';

// Renaming and deleting sessions, deleting rooms and files, downloading files.
describe('room, session and file lifecycle', () => {
  let fake: FakeOpenAI;
  let app: TestApp;
  let store: DiskFileStore;
  let n = 0;
  const uniq = () => `${Date.now().toString(36)}${n++}`;
  const me = async (token: string) => (await app.api(token, 'GET', '/auth/me')).body.user.id as string;
  const sql = <T>(q: string, params: unknown[] = []) => app.orm.em.fork().getConnection().execute<T[]>(q, params);

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    fake.setResponder((req: RecordedRequest) =>
      JSON.stringify(req.body.messages.at(-1) ?? '').includes('LONG')
        ? { text: Array.from({ length: 600 }, (_, i) => ({ text: `w${i} `, delayMs: 15 })) }
        : { text: 'short answer', usage: { promptTokens: 3, completionTokens: 2 } },
    );
    app = await startTestApp({ env: fakeModelsEnv(fake) });
    store = DiskFileStore.forDataDir(app.config.dataDir);
  });
  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });

  /** Adds a new user with `role`; returns their token, id and a joined socket. */
  async function addMember(owner: string, roomId: string, role: string) {
    const token = app.token(`m-${uniq()}`, { name: 'Mia' });
    const userId = await me(token);
    expect((await app.api(owner, 'POST', `/rooms/${roomId}/members`, { userId, role })).status).toBe(201);
    const client = new TestClient(app.url, token);
    await client.connected();
    expect((await client.request('room:join', { roomId })).ok).toBe(true);
    return { token, userId, client };
  }

  it('renames and deletes a session: its creator or an owner/admin; refuses while a turn runs (SESSION_BUSY)', async () => {
    const r = await setupRoom(app, { mode: 'manual', agents: [{ key: 'writer', name: 'Writer' }] });
    const mia = await addMember(r.owner, r.roomId, 'member');
    const max = await addMember(r.owner, r.roomId, 'member');
    try {
      const mine = (await app.api(mia.token, 'POST', `/rooms/${r.roomId}/sessions`, { title: 'Mia' })).body.id as string;
      const renamed = await app.api(mia.token, 'PATCH', `/sessions/${mine}`, { title: 'Mia, renamed' });
      expect(renamed.body).toMatchObject({ id: mine, title: 'Mia, renamed' });
      await r.client.until(() => r.client.roomEvents(r.roomId, 'session:updated').some((e) => e.data.session.title === 'Mia, renamed'), 'session:updated');
      const notTheirs = await app.api(max.token, 'PATCH', `/sessions/${mine}`, { title: 'Max was here' });
      expect([notTheirs.status, notTheirs.body.error.code]).toEqual([403, 'FORBIDDEN']);
      expect((await app.api(max.token, 'DELETE', `/sessions/${mine}`)).status).toBe(403);
      const empty = await app.api(mia.token, 'PATCH', `/sessions/${mine}`, { title: '  ' });
      expect([empty.status, empty.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);

      const done = await send(mia.client, r.roomId, mine, '@writer hello');
      await turnEnd(mia.client, done.turnId);
      const running = await send(mia.client, r.roomId, mine, '@writer LONG please');
      await mia.client.until(() => eventsOf(mia.client, running.turnId, 'agent:delta').length > 0, 'streaming');
      const busy = await app.api(mia.token, 'DELETE', `/sessions/${mine}`);
      expect([busy.status, busy.body.error.code, busy.body.error.details]).toEqual([409, 'SESSION_BUSY', { turnId: running.turnId, sessionId: mine }]);
      await mia.client.request('turn:cancel', { roomId: r.roomId, turnId: running.turnId });
      await turnEnd(mia.client, running.turnId);

      // An admin may delete anyone's session.
      await app.api(r.owner, 'PATCH', `/rooms/${r.roomId}/members/${max.userId}`, { role: 'admin' });
      expect((await app.api(max.token, 'DELETE', `/sessions/${mine}`)).status).toBe(204);
      await r.client.until(() => r.client.roomEvents(r.roomId, 'session:deleted').some((e) => e.data.sessionId === mine), 'session:deleted');
      expect((await app.api(mia.token, 'GET', `/sessions/${mine}/messages`)).body.error.code).toBe('SESSION_NOT_FOUND');
      const em = app.orm.em.fork();
      expect(await em.count(Session, { id: mine })).toBe(0);
      expect(await em.count(Turn, { session: mine })).toBe(0);
      expect(Number((await sql<{ n: string }>('select count(*) as n from "messages" where "session_id" = ?', [mine]))[0]!.n)).toBe(0);
      expect(Number((await sql<{ n: string }>('select count(*) as n from "llm_usage_events" where "session_id" = ?', [mine]))[0]!.n)).toBe(0);
    } finally {
      for (const c of [r.client, mia.client, max.client]) c.close();
    }
  });

  it('downloads a file with its type and a safe Content-Disposition, and deletes it: its uploader or an owner/admin', async () => {
    const r = await setupRoom(app, { mode: 'manual', agents: [] });
    const mia = await addMember(r.owner, r.roomId, 'member');
    const viewer = await addMember(r.owner, r.roomId, 'viewer');
    try {
      const name = 'Résumé "final"; v2.txt';
      const bytes = Buffer.from(`notes only this room has ${uniq()}\n`);
      const up = await uploadFile(app, mia.token, r.roomId, name, bytes);
      expect(up.status).toBe(201);
      const res = await fetch(`${app.url}/api/v1/files/${up.body.id}/content`, { headers: { authorization: `Bearer ${viewer.token}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      const disposition = res.headers.get('content-disposition')!;
      expect(disposition).toBe(`attachment; filename="R_sum_ _final__ v2.txt"; filename*=UTF-8''${encodeURIComponent(name)}`);
      expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);
      const stranger = await fetch(`${app.url}/api/v1/files/${up.body.id}/content`, { headers: { authorization: `Bearer ${app.token(`x-${uniq()}`)}` } });
      expect(stranger.status).toBe(404);

      const sha = (await app.orm.em.fork().findOneOrFail(StoredFile, { id: up.body.id })).sha256;
      expect(existsSync(store.pathOf(sha))).toBe(true);
      const byViewer = await app.api(viewer.token, 'DELETE', `/files/${up.body.id}`);
      expect([byViewer.status, byViewer.body.error.code]).toEqual([403, 'FORBIDDEN']);
      expect((await app.api(mia.token, 'DELETE', `/files/${up.body.id}`)).status).toBe(204);
      await r.client.until(() => r.client.roomEvents(r.roomId, 'file:deleted').some((e) => e.data.fileId === up.body.id), 'file:deleted');
      expect((await app.api(mia.token, 'GET', `/files/${up.body.id}`)).status).toBe(404);
      expect(existsSync(store.pathOf(sha))).toBe(false);
    } finally {
      for (const c of [r.client, mia.client, viewer.client]) c.close();
    }
  });

  it('deletes a room (owner only) leaving no row of it in any table, its unshared files off the disk, and tells its sockets', async () => {
    const r = await setupRoom(app, { mode: 'roundtable', agents: [{ key: 'writer', name: 'Writer' }, { key: 'critic', name: 'Critic' }] });
    const admin = await addMember(r.owner, r.roomId, 'admin');
    const viewer = await addMember(r.owner, r.roomId, 'viewer');
    const other = await setupRoom(app, { mode: 'manual', agents: [{ key: 'writer', name: 'Writer' }] });
    try {
      // Something in every table that hangs from a room.
      const second = (await app.api(admin.token, 'POST', `/rooms/${r.roomId}/sessions`, { title: 'second' })).body.id as string;
      for (const s of [r.sessionId, second]) {
        const t = await send(r.client, r.roomId, s, 'hello both');
        await turnEnd(r.client, t.turnId);
      }
      const shared = Buffer.from(`bytes two rooms share ${uniq()}\n`);
      const own = Buffer.from(`bytes only this room has ${uniq()}\n`);
      const f1 = await uploadFile(app, r.owner, r.roomId, 'shared.txt', shared);
      const f2 = await uploadFile(app, r.owner, r.roomId, 'own.txt', own);
      const f3 = await uploadFile(app, other.owner, other.roomId, 'shared-too.txt', shared);
      for (const f of [f1, f2, f3]) expect(f.status).toBe(201);
      const turn = await app.orm.em.fork().findOneOrFail(Turn, { room: r.roomId }, { orderBy: { queuedAt: 'asc' } });
      const em = app.orm.em.fork();
      em.create(ToolCallEvent, {
        room: r.roomId,
        session: r.sessionId,
        turn: turn.id,
        agentKey: 'writer',
        toolCallId: 'call-1',
        toolName: 'read_file',
        status: 'succeeded',
        input: {},
      });
      em.create(ToolApproval, {
        room: r.roomId,
        session: r.sessionId,
        turn: turn.id,
        agentKey: 'writer',
        toolCallId: 'call-1',
        toolName: 'read_file',
        input: {},
        inputKey: '{}',
        status: 'approved',
        expiresAt: new Date(Date.now() + 60_000),
      });
      await em.flush();
      const shas = (await app.orm.em.fork().find(StoredFile, { id: { $in: [f1.body.id, f2.body.id] } })).map((f) => [f.id, f.sha256]);
      const shaOf = (id: string) => shas.find(([i]) => i === id)![1]!;

      // Every table of the schema, from the catalog; each id of a row that names the room.
      const uuidColumns = await sql<{ table_name: string; column_name: string }>(
        `select table_name, column_name from information_schema.columns
          where table_schema = current_schema() and data_type = 'uuid' order by table_name, column_name`,
      );
      const tables = [...new Set(uuidColumns.map((c) => c.table_name))];
      const withRoom = uuidColumns.filter((c) => c.column_name === 'room_id').map((c) => c.table_name);
      expect(withRoom.sort()).toEqual(expect.arrayContaining(['agents', 'files', 'llm_usage_events', 'messages', 'room_members', 'sessions', 'tool_approvals', 'tool_call_events', 'turns']));
      const ids = new Set<string>([r.roomId]);
      for (const t of withRoom) {
        const rows = await sql<{ id: string }>(`select "id" from "${t}" where "room_id" = ?`, [r.roomId]);
        expect(rows.length, `rows of ${t}`).toBeGreaterThan(0);
        for (const row of rows) ids.add(row.id);
      }
      const countRefs = async () => {
        const found: Record<string, number> = {};
        for (const c of uuidColumns) {
          const [row] = await sql<{ n: string }>(`select count(*) as n from "${c.table_name}" where "${c.column_name}" in (${[...ids].map(() => '?').join(', ')})`, [...ids]);
          if (Number(row!.n) > 0) found[`${c.table_name}.${c.column_name}`] = Number(row!.n);
        }
        return found;
      };
      expect(Object.keys(await countRefs()).length).toBeGreaterThan(8);

      for (const m of [admin, viewer]) {
        const refused = await app.api(m.token, 'DELETE', `/rooms/${r.roomId}`);
        expect([refused.status, refused.body.error.code]).toEqual([403, 'FORBIDDEN']);
      }
      const busyTurn = await send(r.client, r.roomId, r.sessionId, 'LONG answer please');
      await r.client.until(() => eventsOf(r.client, busyTurn.turnId, 'agent:delta').length > 0, 'streaming');
      const busy = await app.api(r.owner, 'DELETE', `/rooms/${r.roomId}`);
      expect([busy.status, busy.body.error.code, busy.body.error.details?.turnId]).toEqual([409, 'SESSION_BUSY', busyTurn.turnId]);
      await r.client.request('turn:cancel', { roomId: r.roomId, turnId: busyTurn.turnId });
      await turnEnd(r.client, busyTurn.turnId);
      for (const row of await sql<{ id: string }>(`select "id" from "messages" where "room_id" = ?`, [r.roomId])) ids.add(row.id);
      ids.add(busyTurn.turnId);

      expect((await app.api(r.owner, 'DELETE', `/rooms/${r.roomId}`)).status).toBe(204);
      for (const c of [r.client, admin.client, viewer.client]) {
        await c.until(() => c.received.some((e) => e.event === 'room:deleted' && e.data.roomId === r.roomId), 'room:deleted');
      }
      expect(await countRefs()).toEqual({});
      expect(tables.length).toBeGreaterThanOrEqual(10);
      // The stored bytes: the room's own are gone, the ones another room shares stay.
      expect(existsSync(store.pathOf(shaOf(f2.body.id)))).toBe(false);
      expect(existsSync(store.pathOf(shaOf(f1.body.id)))).toBe(true);
      expect((await app.api(other.owner, 'GET', `/files/${f3.body.id}`)).status).toBe(200);
      // The sockets left the room: it answers like a missing one.
      expect((await admin.client.request('room:join', { roomId: r.roomId })).error.code).toBe('ROOM_NOT_FOUND');
      expect((await app.api(r.owner, 'GET', `/rooms/${r.roomId}`)).status).toBe(404);
    } finally {
      for (const c of [r.client, admin.client, viewer.client, other.client]) c.close();
    }
  });
});
