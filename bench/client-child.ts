/**
 * A client process: hosts socket client pools (clients.ts) for the bench, which drives them over
 * IPC (remote-pool.ts). The bench runs two of these, so that the clients of a run are spread over
 * two processes and the client side does not hold one core against the server. Every time this
 * process reports is on the bench process's clock (the offset is measured at start).
 */
import { ClientPool } from './clients';
import { nowMs, setClockOffset } from './stats';

export type ClientRequest =
  | { id: number; type: 'now' }
  | { id: number; type: 'offset'; ms: number }
  | { id: number; type: 'cpu' }
  | { id: number; type: 'open'; pool: number; url: string }
  | { id: number; type: 'connect'; pool: number; tokens: (string | null)[]; concurrency: number }
  | { id: number; type: 'join'; pool: number; roomIds: string | string[]; concurrency: number }
  | { id: number; type: 'send'; pool: number; index: number; payload: { roomId: string; sessionId: string; content: string } }
  | { id: number; type: 'turnEnd'; pool: number; index: number; turnId: string; timeoutMs: number }
  | { id: number; type: 'settle'; pool: number; perSocket: number; timeoutMs: number }
  | { id: number; type: 'reset'; pool: number }
  | { id: number; type: 'record'; pool: number; on: boolean }
  | { id: number; type: 'stats'; pool: number }
  | { id: number; type: 'latency'; pool: number }
  | { id: number; type: 'closeRange'; pool: number; from: number }
  | { id: number; type: 'dispose'; pool: number };

export interface PoolStats {
  frames: number;
  textChars: number;
  firstMs: number;
  lastMs: number;
  open: number;
  framesBy: number[];
}

const pools = new Map<number, ClientPool>();

function poolOf(id: number): ClientPool {
  const p = pools.get(id);
  if (!p) throw new Error(`no client pool ${id}`);
  return p;
}

async function handle(req: ClientRequest): Promise<unknown> {
  switch (req.type) {
    case 'now':
      return nowMs();
    case 'offset':
      setClockOffset(req.ms);
      return null;
    case 'cpu': {
      const c = process.cpuUsage();
      return c.user + c.system;
    }
    case 'open':
      pools.set(req.pool, new ClientPool(req.url));
      return null;
    case 'connect':
      await poolOf(req.pool).connect(
        req.tokens.map((t) => t ?? undefined),
        req.concurrency,
      );
      return null;
    case 'join':
      return poolOf(req.pool).joinAll(req.roomIds, req.concurrency);
    case 'send':
      return poolOf(req.pool).send(req.index, req.payload);
    case 'turnEnd':
      return poolOf(req.pool).waitTurnEnd(req.index, req.turnId, req.timeoutMs);
    case 'settle':
      return poolOf(req.pool).settle(req.perSocket, req.timeoutMs);
    case 'reset':
      poolOf(req.pool).reset();
      return null;
    case 'record':
      poolOf(req.pool).recordLatency = req.on;
      return null;
    case 'stats': {
      const p = poolOf(req.pool);
      return { frames: p.frames, textChars: p.textChars, firstMs: p.firstMs, lastMs: p.lastMs, open: p.openCount, framesBy: p.framesBy } satisfies PoolStats;
    }
    case 'latency':
      // A copy: the advanced serialization sends a typed array as it is.
      return Float64Array.from(poolOf(req.pool).latency.values());
    case 'closeRange':
      poolOf(req.pool).closeRange(req.from);
      return null;
    case 'dispose':
      pools.get(req.pool)?.closeAll();
      pools.delete(req.pool);
      return null;
  }
}

process.on('message', (msg: ClientRequest) => {
  handle(msg).then(
    (result) => process.send?.({ id: msg.id, ok: true, result }),
    (err: unknown) => process.send?.({ id: msg.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
});

// The bench went away (done, crashed or killed): close every socket and go.
process.on('disconnect', () => {
  for (const p of pools.values()) p.closeAll();
  process.exit(0);
});

process.send?.({ type: 'ready' });
