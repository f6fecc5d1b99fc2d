import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Socket } from 'socket.io';
import { afterEach, describe, expect, it } from 'vitest';
import { PantheonClient, type RoomSnapshot } from '../../../src/client';

// The SDK against a scripted Socket.IO server: the test decides every ack and every event, so the
// client's handling of seqs and epochs is seen exactly (what reaches handlers, when it rejoins).
const roomId = '00000000-0000-4000-8000-0000000000aa';
const snapshot = (epoch: string, seq: number) => ({ roomId, epoch, seq }) as unknown as RoomSnapshot;

type JoinPayload = { roomId: string; lastSeq?: number; epoch?: string };
type Answer = (socket: Socket, payload: JoinPayload) => unknown;
interface Scripted {
  answer: Answer;
  /** Runs right after the ack is sent, in the same step (as the real server sends what follows a snapshot). */
  after?: (socket: Socket) => void;
}

/** A fake server: answers each room:join with the next scripted answer, and records the joins. */
async function fakeServer() {
  const http = createServer();
  const io = new Server(http);
  const joins: JoinPayload[] = [];
  const answers: Scripted[] = [];
  let socket: Socket | undefined;
  const waiters: (() => void)[] = [];
  const poke = () => waiters.splice(0).forEach((w) => w());
  io.on('connection', (s) => {
    socket = s;
    s.on('room:join', (payload: JoinPayload, ack: (a: unknown) => void) => {
      joins.push(payload);
      const next = answers.shift();
      if (!next) throw new Error(`no scripted answer for join ${JSON.stringify(payload)}`);
      ack(next.answer(s, payload));
      next.after?.(s);
      poke();
    });
    poke();
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return {
    url,
    joins,
    answer: (answer: Answer, after?: Scripted['after']) => void answers.push({ answer, after }),
    /** Emits a room event to the connected client. */
    send: (epoch: string, seq: number) => socket!.emit('room:updated', { roomId, epoch, seq, ts: 0, name: `${epoch}:${seq}` }),
    socket: () => socket!,
    /** Resolves once `check` holds, looked at after every join and connection. */
    until(check: () => boolean): Promise<void> {
      return check() ? Promise.resolve() : new Promise((resolve) => waiters.push(() => (check() ? resolve() : void this.until(check).then(resolve))));
    },
    close: () => new Promise<void>((r) => io.close(() => r())),
  };
}

const replayAck = (epoch: string, seq: number) => () => ({ ok: true, mode: 'replay', replayed: 0, epoch, seq });
const snapshotAck = (epoch: string, seq: number, replayGap?: boolean) => () => ({
  ok: true,
  mode: 'snapshot',
  snapshot: snapshot(epoch, seq),
  epoch,
  seq,
  ...(replayGap ? { replayGap } : {}),
});

describe('PantheonClient: seqs within epochs', () => {
  let server: Awaited<ReturnType<typeof fakeServer>>;
  let client: PantheonClient;
  afterEach(async () => {
    client?.close();
    await server?.close();
  });

  async function joined(first: Answer) {
    server = await fakeServer();
    client = new PantheonClient(server.url, { token: 't', socket: { reconnectionDelay: 20, reconnectionDelayMax: 40 } });
    const seen: string[] = [];
    const snapshots: RoomSnapshot[] = [];
    let wake: (() => void) | undefined;
    client.on('room:updated', (e) => {
      seen.push(e.name!);
      wake?.();
    });
    client.onSnapshot((s) => snapshots.push(s));
    server.answer(first);
    await client.join(roomId);
    const seenUntil = (n: number) =>
      new Promise<void>((resolve) => {
        wake = () => seen.length >= n && resolve();
        wake();
      });
    return { seen, snapshots, seenUntil };
  }

  it('drops a repeated event; takes the first events of a new epoch as new, not as repeats, and asks for a fresh snapshot', async () => {
    const { seen, snapshots, seenUntil } = await joined(snapshotAck('e1', 5));
    server.answer(snapshotAck('e2', 3), (s) => s.emit('room:updated', { roomId, epoch: 'e2', seq: 4, ts: 0, name: 'e2:4' }));
    for (const seq of [6, 6, 7]) server.send('e1', seq);
    // The stream restarted: its seqs begin at 1 again.
    for (const seq of [1, 2, 2, 3]) server.send('e2', seq);
    await seenUntil(6);
    expect(seen).toEqual(['e1:6', 'e1:7', 'e2:1', 'e2:2', 'e2:3', 'e2:4']);
    // The rejoin asks for no replay: what the restart did to events in flight is settled by a snapshot.
    expect(server.joins).toEqual([{ roomId }, { roomId }]);
    expect(snapshots.map((x) => [x.epoch, x.seq])).toEqual([
      ['e1', 5],
      ['e2', 3],
    ]);
    expect([client.epochOf(roomId), client.lastSeqOf(roomId)]).toEqual(['e2', 4]);
  });

  it('takes a merged event (fromSeq..seq) that follows on as in order, and a later one as a jump', async () => {
    const { seen, seenUntil } = await joined(snapshotAck('e1', 5));
    server.socket().emit('room:updated', { roomId, epoch: 'e1', fromSeq: 6, seq: 9, ts: 0, name: 'e1:6-9' });
    server.send('e1', 10);
    await seenUntil(2);
    expect(seen).toEqual(['e1:6-9', 'e1:10']);
    expect(client.lastSeqOf(roomId)).toBe(10);
    expect(server.joins).toEqual([{ roomId }]);
    server.answer(replayAck('e1', 13));
    server.socket().emit('room:updated', { roomId, epoch: 'e1', fromSeq: 12, seq: 13, ts: 0, name: 'e1:12-13' });
    await server.until(() => server.joins.length === 2);
    expect(server.joins[1]).toEqual({ roomId, lastSeq: 10, epoch: 'e1' });
  });

  it('rejoins with its epoch and last seq when a seq jumps within an epoch; the replay fills the hole in order', async () => {
    const { seen, seenUntil } = await joined(snapshotAck('e1', 5));
    server.answer((s) => {
      // The server replays what the client missed, then acks.
      for (const seq of [7, 8]) s.emit('room:updated', { roomId, epoch: 'e1', seq, ts: 0, name: `e1:${seq}` });
      return replayAck('e1', 8)();
    });
    server.send('e1', 6);
    server.send('e1', 8); // 7 was lost on the way
    await server.until(() => server.joins.length === 2);
    expect(server.joins[1]).toEqual({ roomId, lastSeq: 6, epoch: 'e1' });
    server.send('e1', 9);
    await seenUntil(4);
    expect(seen).toEqual(['e1:6', 'e1:7', 'e1:8', 'e1:9']);
  });

  it('takes no event of a new epoch that begins past its start, and continues from the snapshot it asks for', async () => {
    const { seen, snapshots, seenUntil } = await joined(snapshotAck('e1', 5));
    server.answer(snapshotAck('e2', 3));
    server.send('e2', 3); // e2's first events never arrived here
    await server.until(() => server.joins.length === 2);
    expect(server.joins[1]).toEqual({ roomId });
    server.send('e2', 4);
    await seenUntil(1);
    expect(seen).toEqual(['e2:4']);
    expect(snapshots.map((x) => [x.epoch, x.seq])).toEqual([
      ['e1', 5],
      ['e2', 3],
    ]);
  });

  it('takes the join ack’s position before the events that follow it on the wire', async () => {
    server = await fakeServer();
    client = new PantheonClient(server.url, { token: 't' });
    const seen: number[] = [];
    client.on('room:updated', (e) => seen.push(e.seq));
    let done!: () => void;
    const allSeen = new Promise<void>((r) => (done = r));
    client.on('room:updated', (e) => e.seq === 43 && done());
    // The snapshot's ack and the next events leave the server in one go.
    server.answer(snapshotAck('e1', 40), (s) => [41, 42, 43].forEach((seq) => s.emit('room:updated', { roomId, epoch: 'e1', seq, ts: 0 })));
    await client.join(roomId);
    await allSeen;
    expect(seen).toEqual([41, 42, 43]);
    expect(server.joins).toHaveLength(1);
  });

  it('rejoins after a reconnection with its epoch and last seq', async () => {
    const { seenUntil } = await joined(snapshotAck('e1', 5));
    server.send('e1', 6);
    await seenUntil(1);
    server.answer(replayAck('e1', 6));
    server.socket().conn.close(); // the connection drops (not a server-side kick): the client reconnects
    await server.until(() => server.joins.length === 2);
    expect(server.joins[1]).toEqual({ roomId, lastSeq: 6, epoch: 'e1' });
  });
});
