import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Room, StoredFile } from '../../../src/db/entities';
import { startFakeOpenAI, toolNamesOf, transcriptOf, type FakeOpenAI, type RecordedRequest } from '../../helpers/fake-openai';
import { corruptPdf } from '../../helpers/file-fixtures';
import { TestClient } from '../../helpers/socket-client';
import { startTestApp, testDb, type TestApp } from '../../helpers/test-app';
import { agentNameOf, clientMsgId, fakeModelsEnv, setupRoom, turnEnd, type RoomSetup } from '../../helpers/turn-kit';
import { uploadFile } from '../../helpers/upload-suite';

/** Characters of attached text in the prompt, small so one file fits and another does not. */
const BUDGET = 300;

describe(`files attached to a message on ${testDb()}`, () => {
  let fake: FakeOpenAI;
  let app: TestApp;
  let r: RoomSetup;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    app = await startTestApp({ env: fakeModelsEnv(fake, { ATTACHMENT_CONTEXT_CHARS: String(BUDGET) }) });
    // The reader may not browse the room's files.
    r = await setupRoom(app, { mode: 'roundtable', agents: [{ key: 'reader', name: 'Reader', toolPermissions: [] }] });
  });
  afterAll(async () => {
    r?.client.close();
    await app?.close();
    await fake?.close();
  });

  const upload = async (name: string, bytes: Uint8Array, settled: 'file:ready' | 'file:failed' = 'file:ready') => {
    const up = await uploadFile(app, r.owner, r.roomId, name, bytes);
    expect(up.status).toBe(201);
    await r.client.until(() => r.client.received.some((e) => e.event === settled && e.data.fileId === up.body.id), `${name} ${settled}`, 30_000);
    return up.body.id as string;
  };
  const sendWith = (content: string, fileIds: string[]) =>
    r.client.request('message:send', { roomId: r.roomId, sessionId: r.sessionId, clientMsgId: clientMsgId(), content, fileIds });

  it("puts an attached file's text in the agents' prompt, and shows the attachment in the event, in history and in a snapshot", async () => {
    const fileId = await upload('brief.txt', Buffer.from('The secret codename is AZURE-FALCON.'));
    const requests: RecordedRequest[] = [];
    fake.setResponder((req) => {
      requests.push(req);
      return { text: 'Noted.' };
    });
    const ack = await sendWith('What is the codename?', [fileId]);
    expect(ack.ok, JSON.stringify(ack)).toBe(true);
    expect((await turnEnd(r.client, ack.turnId)).status).toBe('completed');

    const readerReq = requests.find((q) => agentNameOf(q) === 'Reader')!;
    expect(transcriptOf(readerReq)).toContain('The secret codename is AZURE-FALCON.');
    // It fit whole: no reference, and no tool the agent was not given.
    expect(toolNamesOf(readerReq)).toEqual([]);

    const expected = { id: fileId, filename: 'brief.txt', kind: 'txt', sizeBytes: 36 };
    const created = r.client.received.find((e) => e.event === 'message:created' && e.data.message.id === ack.messageId)!;
    expect(created.data.message.attachments).toEqual([expected]);

    const history = await app.api(r.owner, 'GET', `/sessions/${r.sessionId}/messages`);
    expect(history.body.items.find((m: any) => m.id === ack.messageId).attachments).toEqual([expected]);

    const again = new TestClient(app.url, r.owner);
    try {
      await again.connected();
      const join = await again.request('room:join', { roomId: r.roomId });
      expect(join.ok).toBe(true);
      expect(join.snapshot.recentMessages.find((m: any) => m.id === ack.messageId).attachments).toEqual([expected]);
    } finally {
      again.close();
    }
  });

  it('gives a file past the budget as its beginning and a reference that read_file opens, even without the permission', async () => {
    const tail = 'The closing line names the winner: ORCHID.';
    const long = `${'Filler sentence about logistics. '.repeat(20)}${tail}`;
    const fileId = await upload('long.md', Buffer.from(long));
    const requests: RecordedRequest[] = [];
    fake.setResponder((req) => {
      requests.push(req);
      if (requests.length === 1) return { toolCalls: [{ id: 'call_read', name: 'read_file', args: { fileId } }] };
      return { text: 'The winner is ORCHID.' };
    });
    const ack = await sendWith('Who won?', [fileId]);
    expect(ack.ok, JSON.stringify(ack)).toBe(true);
    expect((await turnEnd(r.client, ack.turnId)).status).toBe('completed');

    const first = transcriptOf(requests[0]!);
    expect(first).toContain('Filler sentence about logistics.');
    expect(first).not.toContain('ORCHID');
    expect(first).toContain('"truncated":true');
    expect(first).toContain(fileId);
    expect(toolNamesOf(requests[0]!)).toEqual(['read_file']);
    // The tool read the whole file for the model.
    expect(transcriptOf(requests[1]!)).toContain(tail);
    const toolEnd = r.client.received.find((e) => e.event === 'tool:end' && e.data.turnId === ack.turnId)!;
    expect(toolEnd.data.status).toBe('succeeded');
  });

  it('does not let that reference open another file of the room', async () => {
    const other = await upload('other.txt', Buffer.from('Not attached: PLATYPUS.'));
    const long = await upload('long2.txt', Buffer.from('Padding words here. '.repeat(40)));
    const requests: RecordedRequest[] = [];
    fake.setResponder((req) => {
      requests.push(req);
      if (requests.length === 1) return { toolCalls: [{ id: 'call_other', name: 'read_file', args: { fileId: other } }] };
      return { text: 'I could not read it.' };
    });
    const ack = await sendWith('Read the other one', [long]);
    expect(ack.ok).toBe(true);
    await turnEnd(r.client, ack.turnId);
    const toolEnd = r.client.received.find((e) => e.event === 'tool:end' && e.data.turnId === ack.turnId)!;
    expect(toolEnd.data.status).toBe('failed');
    expect(transcriptOf(requests[1]!)).not.toContain('PLATYPUS');
  });

  it('refuses a failed file with its status, and writes nothing', async () => {
    const failed = await upload('broken.pdf', corruptPdf(), 'file:failed');
    const before = await app.api(r.owner, 'GET', `/sessions/${r.sessionId}/messages?limit=100`);
    const ack = await sendWith('Look at this', [failed]);
    expect(ack.ok).toBe(false);
    expect(ack.error.code).toBe('FILE_NOT_READY');
    expect(ack.error.details).toMatchObject({ fileId: failed, status: 'failed' });
    expect(ack.error.message).toContain('failed');
    const after = await app.api(r.owner, 'GET', `/sessions/${r.sessionId}/messages?limit=100`);
    expect(after.body.items.length).toBe(before.body.items.length);
  });

  it('refuses a file still being parsed with its status', async () => {
    // A row in the state an upload has while it parses (parsing itself is too quick to catch).
    const em = app.orm.em.fork();
    const parsing = em.create(StoredFile, {
      room: em.getReference(Room, r.roomId),
      filename: 'pending.txt',
      kind: 'txt',
      mime: 'text/plain',
      sizeBytes: 5,
      sha256: '0'.repeat(64),
      status: 'parsing',
    });
    await em.flush();
    const ack = await sendWith('Read it when you can', [parsing.id]);
    expect(ack.ok).toBe(false);
    expect(ack.error.code).toBe('FILE_NOT_READY');
    expect(ack.error.details).toEqual({ fileId: parsing.id, status: 'parsing' });
    expect(ack.error.message).toContain('not ready yet');
  });
});
