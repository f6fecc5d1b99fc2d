import net from 'node:net';
import { cleanEnv, spawnProcess, type Spawned } from './process';

/** A port nothing listens on: bound, then released. */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export interface OwnRedis {
  url: string;
  /** Kills the server at once and starts a new one on the same port, holding nothing. */
  restartEmpty(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A redis-server of a test's own, on a free port, with no persistence: a restart comes back empty,
 * as a Redis without a volume does. The shared Redis is never touched.
 */
export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort();
  const start = async (): Promise<Spawned> => {
    const p = spawnProcess('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], cleanEnv({}));
    await p.waitFor(/Ready to accept connections/, 15_000);
    return p;
  };
  let server = await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    async restartEmpty() {
      await server.stop('SIGKILL');
      server = await start();
    },
    async stop() {
      await server.stop('SIGKILL');
    },
  };
}
