import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Socket as ServerSocket } from 'socket.io';
import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RoomEvent } from '../../../src/contract/events';
import { roomChannel } from '../../../src/realtime/channels';
import { RoomDelivery } from '../../../src/realtime/room-delivery';

// Room events raised in one event-loop turn (a turn's lifecycle events come in such groups) leave
// each websocket in one TCP write instead of one per event: fewer syscalls on the server and fewer
// wake-ups for every client. Real Socket.IO over real websockets; the server side's TCP writes are
// counted at the socket's stream implementation (_write / _writev).

const ROOM = 'r1';
const CLIENTS = 3;

interface Counted {
  writes: number;
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('WriteBatcher: one write per socket per event-loop turn', () => {
  let http: HttpServer;
  let ioServer: Server;
  let delivery: RoomDelivery;
  let seq = 0;
  const clients: Socket[] = [];
  const received = new Map<Socket, { event: string; seq: number }[]>();
  const counters = new Map<string, Counted>();
  /** Every server-side TCP write, in order ('write'), and what a test adds between them. */
  const writeLog: string[] = [];

  const event = () => ({ roomId: ROOM, epoch: 'e1', seq: ++seq, ts: Date.now() }) as unknown as RoomEvent;
  const serverSockets = () => [...ioServer.of('/').sockets.values()];
  /** Resolves once every client holds `n` more frames than it did when called. */
  const arrivals = (n: number, who: Socket[] = clients) => {
    const start = new Map(who.map((c) => [c, received.get(c)!.length]));
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('frames did not arrive')), 5000);
      const check = () => {
        if (who.every((c) => received.get(c)!.length >= start.get(c)! + n)) {
          clearTimeout(timer);
          for (const c of who) c.offAny(check);
          resolve();
        }
      };
      for (const c of who) c.onAny(check);
    });
  };
  const resetCounts = () => {
    for (const c of counters.values()) c.writes = 0;
  };

  beforeAll(async () => {
    http = createServer();
    ioServer = new Server(http, { transports: ['websocket'] });
    delivery = new RoomDelivery(() => ioServer.of('/'), { delivered: () => undefined, follow: async () => undefined });
    ioServer.on('connection', (s: ServerSocket) => {
      void s.join(roomChannel(ROOM));
      // The TCP socket under this websocket: count the writes that reach it.
      const tcp = (s.conn as unknown as { transport: { socket: { _socket: Record<string, (...a: unknown[]) => unknown> } } }).transport.socket._socket;
      const counted: Counted = { writes: 0 };
      counters.set(s.id, counted);
      for (const method of ['_write', '_writev'] as const) {
        const original = tcp[method]!;
        tcp[method] = function (this: unknown, ...args: unknown[]) {
          counted.writes++;
          writeLog.push('write');
          return original.apply(this, args);
        };
      }
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const { port } = http.address() as AddressInfo;
    for (let i = 0; i < CLIENTS; i++) {
      const c = connect(`http://127.0.0.1:${port}`, { transports: ['websocket'], forceNew: true });
      received.set(c, []);
      c.onAny((name: string, data: { seq: number }) => received.get(c)!.push({ event: name, seq: data.seq }));
      await new Promise<void>((resolve) => c.once('connect', () => resolve()));
      clients.push(c);
    }
    while ((ioServer.of('/').adapter.rooms.get(roomChannel(ROOM))?.size ?? 0) < CLIENTS) await tick();
  });

  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await new Promise<void>((resolve) => ioServer.close(() => resolve()));
  });

  it('sends the events of one turn in one write per socket, in order', async () => {
    await tick();
    resetCounts();
    const done = arrivals(3);
    const first = seq + 1;
    delivery.deliver(ROOM, 'turn:started', event());
    delivery.deliver(ROOM, 'turn:plan', event());
    delivery.deliver(ROOM, 'agent:start', event());
    await done;
    for (const c of clients) {
      expect(received.get(c)!.slice(-3)).toEqual([
        { event: 'turn:started', seq: first },
        { event: 'turn:plan', seq: first + 1 },
        { event: 'agent:start', seq: first + 2 },
      ]);
    }
    for (const s of serverSockets()) expect(counters.get(s.id)!.writes).toBe(1);
  });

  it('events of separate turns are separate writes (what the count above is measured against)', async () => {
    await tick();
    resetCounts();
    const done = arrivals(3);
    for (let i = 0; i < 3; i++) {
      delivery.deliver(ROOM, 'tool:progress', event());
      await tick();
      await tick();
    }
    await done;
    for (const s of serverSockets()) expect(counters.get(s.id)!.writes).toBe(3);
  });

  it('holds a lone delta only to the end of its task, and lets an event raised after it in the task join its write', async () => {
    await tick();
    resetCounts();
    let done = arrivals(1);
    delivery.deliver(ROOM, 'agent:delta', event());
    expect(delivery.writes.size).toBe(CLIENTS);
    // Let go once the task's microtasks ran, not at the end of the event-loop turn.
    await Promise.resolve();
    expect(delivery.writes.size).toBe(0);
    await done;
    for (const s of serverSockets()) expect(counters.get(s.id)!.writes).toBe(1);

    // Two deltas of one task: one write.
    await tick();
    resetCounts();
    done = arrivals(2);
    delivery.deliver(ROOM, 'agent:delta', event());
    delivery.deliver(ROOM, 'agent:delta', event());
    await done;
    for (const s of serverSockets()) expect(counters.get(s.id)!.writes).toBe(1);

    // An agent's last text and its agent:end (raised together when the agent ends): one write, in order.
    await tick();
    resetCounts();
    done = arrivals(3);
    const first = seq + 1;
    delivery.deliver(ROOM, 'agent:delta', event());
    delivery.deliver(ROOM, 'agent:end', event());
    await Promise.resolve();
    // The event holds the writes to the end of the event-loop turn, the delta's with them.
    expect(delivery.writes.size).toBe(CLIENTS);
    delivery.deliver(ROOM, 'turn:end', event());
    await done;
    for (const c of clients) expect(received.get(c)!.slice(-3).map((r) => r.seq)).toEqual([first, first + 1, first + 2]);
    for (const s of serverSockets()) expect(counters.get(s.id)!.writes).toBe(1);
  });

  it('lets a write that another callback of the same turn begins go out before the batch (the model request after agent:start)', async () => {
    await tick();
    resetCounts();
    writeLog.length = 0;
    const done = arrivals(1);
    delivery.deliver(ROOM, 'agent:start', event());
    // Queued after the batcher's first hop, as undici queues the request's write.
    setImmediate(() => writeLog.push('other'));
    await done;
    expect(writeLog).toEqual(['other', ...Array(CLIENTS).fill('write')]);
  });

  it('keeps what the socket is sent directly in the same turn in its order', async () => {
    await tick();
    const target = serverSockets()[0]!;
    const client = clients.find((c) => c.id === target.id)!;
    const done = arrivals(3, [client]);
    const first = seq + 1;
    delivery.deliver(ROOM, 'turn:started', event());
    target.emit('turn:plan', event() as never);
    delivery.deliver(ROOM, 'agent:start', event());
    await done;
    expect(received.get(client)!.slice(-3).map((r) => r.seq)).toEqual([first, first + 1, first + 2]);
  });

  it('a socket closed in the same turn still gets the frames held for it first', async () => {
    await tick();
    const target = serverSockets().at(-1)!;
    const client = clients.find((c) => c.id === target.id)!;
    const got: string[] = [];
    client.onAny((name: string) => got.push(name));
    const closed = new Promise<string>((resolve) => client.once('disconnect', (reason) => resolve(reason)));
    delivery.deliver(ROOM, 'turn:end', event());
    target.disconnect(true);
    expect(await closed).toBe('io server disconnect');
    expect(got).toEqual(['turn:end']);
    expect(delivery.writes.size).toBe(0);
  });
});
