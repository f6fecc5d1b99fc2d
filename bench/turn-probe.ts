/**
 * `npm run bench:turn`: the turn overhead alone, in about half a minute, for trying a change to the
 * turn path or to delivery without the whole bench. One Pantheon server (PostgreSQL, a fresh
 * database; DELTA_FLUSH_MS=40, or TURN_PROBE_FLUSH_MS) in a child process, TURN_PROBE_CLIENTS
 * members joined from the two client processes, TURN_PROBE_TURNS sequential turns of 20 tokens
 * 10 ms apart from socket 0. Prints the overhead (ack -> turn:end minus the model's streaming
 * time), the token latency (model write -> client) and the CPU each process spent per turn. No
 * baseline: compare runs of two builds, alternating, on a quiet machine.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { ServerChild } from './child';
import { startFakeModel } from './fake-model';
import { pantheonEnv, setupPantheonRoom } from './realtime';
import { ClientProcs } from './remote-pool';
import { percentile, sleep } from './stats';

const int = (name: string, dflt: number) => {
  const v = Number(process.env[name] ?? dflt);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer`);
  return v;
};

async function main() {
  const clients = int('TURN_PROBE_CLIENTS', 200);
  const turns = int('TURN_PROBE_TURNS', 100);
  const flushMs = Number(process.env.TURN_PROBE_FLUSH_MS ?? 40);
  const procs = await ClientProcs.start(2);
  const fake = await startFakeModel();
  const secret = `bench-${randomBytes(24).toString('hex')}`;
  const { createTestDatabase } = await import('../tests/helpers/services');
  const db = await createTestDatabase();
  const child = await ServerChild.start({ mode: 'pantheon', env: pantheonEnv(fake, secret, flushMs, db.url) });
  const pool = await procs.pool(child.url);
  try {
    const room = await setupPantheonRoom(child.url, secret, clients, 1);
    await pool.connect(room.tokens);
    await pool.joinAll(room.roomId);
    const target = { roomId: room.roomId, sessionId: room.sessionIds[0]! };
    const turn = async (marker: string) => {
      const { turnId, ackMs } = await pool.send(0, { ...target, content: `Please answer. ${marker}` });
      const endMs = await pool.waitTurnEnd(0, turnId);
      const modelMs = fake.modelMsFor(marker);
      if (modelMs === undefined) throw new Error(`the model was not called for ${marker}`);
      return endMs - ackMs - modelMs;
    };
    fake.plan = { tokens: 5, delayMs: 10 };
    await turn('bench-turn-probe-warm');
    await sleep(300);
    fake.plan = { tokens: 20, delayMs: 10 };
    await pool.reset();
    await pool.recordLatency(true);
    const cpu0 = { clients: await procs.cpuMs(), server: await child.cpu(), bench: process.cpuUsage() };
    const overhead: number[] = [];
    for (let t = 0; t < turns; t++) overhead.push(await turn(`bench-turn-probe-${t}-${randomUUID().slice(0, 8)}`));
    const clientMs = (await procs.cpuMs()) - cpu0.clients;
    await pool.settle((await pool.stats()).framesOf0, 30_000);
    await pool.recordLatency(false);
    const latencies = await pool.latencies();
    const serverMs = ((await child.cpu()).cpuUs - cpu0.server.cpuUs) / 1000;
    const bench = process.cpuUsage(cpu0.bench);
    const per = (ms: number) => (ms / turns).toFixed(1);
    console.log(`token latency (DELTA_FLUSH_MS=${flushMs}): p50 ${percentile(latencies, 50).toFixed(2)} ms, p99 ${percentile(latencies, 99).toFixed(2)} ms`);
    console.log(`${clients} clients, ${turns} turns: overhead p50 ${percentile(overhead, 50).toFixed(1)} ms, p99 ${percentile(overhead, 99).toFixed(1)} ms`);
    console.log(`CPU per turn: server ${per(serverMs)} ms, client processes ${per(clientMs)} ms, fake model ${per((bench.user + bench.system) / 1000)} ms`);
  } finally {
    await pool.dispose();
    await child.stop();
    await procs.stop();
    await fake.close();
    await db.drop().catch(() => undefined);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
