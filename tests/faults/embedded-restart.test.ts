import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PantheonClient } from '../../src/client';
import { signToken } from '../../src/auth/jwt';
import { within } from '../helpers/deadline';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai';
import { cleanEnv, spawnProcess, type Spawned, LISTENING } from '../helpers/process';
import { RoomView } from '../helpers/room-view';
import { startTestApp, TEST_JWT_SECRET, type TestApp } from '../helpers/test-app';
import { answerAs, fakeModelsEnv } from '../helpers/turn-kit';


// An embedded server dies (SIGKILL) in the middle of a turn; a new one starts on the same DATA_DIR
// and port. Its room streams begin again at seq 1, on new epochs: a client coming back with its old
// position must get a snapshot, never a replay of other events, and see how the turn ended.
describe('an embedded server killed mid-turn and started again on its DATA_DIR', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'pantheon-embedded-restart-'));
  let fake: FakeOpenAI | undefined;
  let first: Spawned | undefined;
  let second: TestApp | undefined;
  afterAll(async () => {
    await first?.stop('SIGKILL');
    await second?.close();
    await fake?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers the SDK’s rejoin with a snapshot of the new epoch that shows the turn interrupted', async () => {
    fake = await startFakeOpenAI();
    // The model streams nine chunks (after its first, empty one), then hangs: the turn is running when the server dies.
    fake.setResponder(answerAs({ Writer: () => ({ text: Array.from({ length: 50 }, (_, i) => `w${i} `), hangAfterChunks: 10 }) }));
    const env = { ...fakeModelsEnv(fake), DATA_DIR: dataDir, HOST: '127.0.0.1', JWT_SECRET: TEST_JWT_SECRET, LOG_LEVEL: 'info' };
    // The server is the child itself (no npm or tsx wrapper), so its exit means its pid is gone.
    first = spawnProcess(process.execPath, ['--import', 'tsx', 'src/main.ts'], cleanEnv({ ...env, PORT: '0' }));
    const [, url] = await first.waitFor(LISTENING);
    const token = signToken(TEST_JWT_SECRET, { sub: 'survivor', name: 'Sam' });
    const api = async (method: string, p: string, body?: unknown) => {
      const res = await fetch(`${url}/api/v1${p}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return (await res.json()) as { id: string };
    };
    const roomId = (await api('POST', '/rooms', { name: 'Crash', mode: 'manual' })).id;
    await api('POST', `/rooms/${roomId}/agents`, { key: 'writer', name: 'Writer' });
    const sessionId = (await api('POST', `/rooms/${roomId}/sessions`, { title: 's' })).id;

    // Reconnections wait for this gate: the client comes back once the new server has moved on.
    let openGate!: () => void;
    let gate: Promise<void> | undefined;
    const client = new PantheonClient(url!, { token: async () => (await gate, token), socket: { reconnectionDelay: 50, reconnectionDelayMax: 100 } });
    const view = new RoomView(client, roomId);
    try {
      await client.join(roomId);
      const { turnId } = await client.send({ roomId, sessionId, content: '@writer go' });
      await within(20_000, 'the turn streaming', view.until(() => (view.textOf(turnId, 'writer') ?? '').includes('w8 ')));
      const before = { epoch: client.epochOf(roomId)!, seq: client.lastSeqOf(roomId)! };

      gate = new Promise((r) => (openGate = r));
      await first.stop('SIGKILL');
      second = await startTestApp({ db: 'pglite', dataDir, env: { ...fakeModelsEnv(fake), PORT: new URL(url!).port } });
      // The new server's count passes the client's: a seq alone would now name other events.
      for (let i = 0; i <= before.seq + 3; i++) await second.roomEvents.broadcaster.publish(roomId, 'room:updated', { name: `after-${i}` });
      openGate();

      await within(20_000, 'a snapshot after the rejoin', view.until(() => view.snapshots.length === 2));
      const snap = view.snapshots[1]!;
      expect(snap.epoch).not.toBe(before.epoch);
      expect(snap.seq).toBeGreaterThan(before.seq);
      expect(snap.turnsInFlight.map((t) => t.turnId)).not.toContain(turnId);
      expect(snap.recentMessages.some((m) => m.turnId === turnId && m.authorType === 'user')).toBe(true);
      expect(snap.recentTurns).toContainEqual({ turnId, sessionId, status: 'interrupted' });
      expect(view.ended.get(turnId)).toBe('interrupted');
      // The turn's end went out once, on the new epoch, before the client came back.
      const log = await second.roomEvents.replayLog.since(roomId, 0);
      expect(log.gap ? [] : log.events.filter((e) => e.event === 'turn:end').map((e) => e.data)).toEqual([
        expect.objectContaining({ turnId, status: 'interrupted', epoch: snap.epoch }),
      ]);

      // And the client goes on from the snapshot.
      const next = await second.roomEvents.broadcaster.publish(roomId, 'room:updated', { name: 'next' });
      const seen: number[] = [];
      client.on('room:updated', (e) => seen.push(e.seq));
      await within(10_000, 'the next event', new Promise<void>((r) => client.on('room:updated', (e) => e.seq === next.seq && r())));
      expect(next.seq).toBeGreaterThan(snap.seq);
      expect([client.epochOf(roomId), client.lastSeqOf(roomId)]).toEqual([snap.epoch, next.seq]);
      expect(seen).toEqual([next.seq]);
    } finally {
      client.close();
    }
  }, 120_000);
});
