import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { afterEach, describe, expect, it } from 'vitest';
import { PantheonClient } from '../../../src/client';

// The SDK's send against a scripted server: an ack that never comes, or a connection that drops
// before it, makes the client send the same message again, with the same clientMsgId.
type Send = { clientMsgId: string; content: string };

async function server(answer: (n: number, p: Send, ack: (a: unknown) => void, drop: () => void) => void) {
  const http = createServer();
  const io = new Server(http);
  const sends: Send[] = [];
  io.on('connection', (s) => {
    s.on('message:send', (p: Send, ack: (a: unknown) => void) => {
      sends.push(p);
      answer(sends.length, p, ack, () => s.conn.close());
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, sends, close: () => new Promise<void>((r) => io.close(() => r())) };
}

const roomId = '00000000-0000-4000-8000-0000000000aa';
const sessionId = '00000000-0000-4000-8000-0000000000bb';
const ok = { ok: true, messageId: 'm1', turnId: 't1', duplicate: true };

describe('PantheonClient.send', () => {
  let close: (() => Promise<void>) | undefined;
  let client: PantheonClient | undefined;
  afterEach(async () => {
    client?.close();
    await close?.();
  });

  it('sends again with the same clientMsgId when the ack does not come in time', async () => {
    const s = await server((n, _p, ack) => n > 1 && ack(ok));
    close = s.close;
    client = new PantheonClient(s.url, { token: 't', timeoutMs: 200 });
    const r = await client.send({ roomId, sessionId, content: 'hello' });
    expect(s.sends).toHaveLength(2);
    expect(s.sends[0]!.clientMsgId).toBe(s.sends[1]!.clientMsgId);
    expect(r).toEqual({ messageId: 'm1', turnId: 't1', duplicate: true, clientMsgId: s.sends[0]!.clientMsgId });
  });

  it('sends again after the connection dropped before the ack, once reconnected', async () => {
    const s = await server((n, _p, ack, drop) => (n === 1 ? drop() : ack(ok)));
    close = s.close;
    client = new PantheonClient(s.url, { token: 't', timeoutMs: 300, socket: { reconnectionDelay: 50, reconnectionDelayMax: 100 } });
    const states: string[] = [];
    client.onState((st) => states.push(st));
    const r = await client.send({ roomId, sessionId, content: 'hello', clientMsgId: 'given-id-1' });
    expect(s.sends.map((x) => x.clientMsgId)).toEqual(['given-id-1', 'given-id-1']);
    expect(r.clientMsgId).toBe('given-id-1');
    expect(states).toContain('reconnecting');
  });

  it('does not send again when the server refused the message', async () => {
    const s = await server((_n, _p, ack) => ack({ ok: false, error: { code: 'QUEUE_FULL', message: 'full' } }));
    close = s.close;
    client = new PantheonClient(s.url, { token: 't', timeoutMs: 500 });
    await expect(client.send({ roomId, sessionId, content: 'hello' })).rejects.toMatchObject({ code: 'QUEUE_FULL' });
    expect(s.sends).toHaveLength(1);
  });
});
