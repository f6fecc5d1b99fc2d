import type { Pool, PoolClient } from 'pg';

/**
 * Gives the pool back a connection that dropped while checked out. Kysely releases a transaction's
 * connection only once its COMMIT or ROLLBACK succeeded; when the connection drops at the COMMIT,
 * both fail and the connection would stay checked out forever: a few drops and the pool runs dry
 * (and closing it waits forever). So when a checked-out connection ends, it is released here with
 * the error (the pool discards it), and the holder's own release, if it comes, does nothing.
 */
export function releaseDroppedConnections(pool: Pool): void {
  pool.on('acquire', (client: PoolClient) => {
    const onEnd = () => {
      const release = client.release;
      client.release = () => undefined;
      release(new Error('connection lost while checked out'));
    };
    const onRelease = (_err: Error | undefined, released: PoolClient) => {
      if (released !== client) return;
      client.removeListener('end', onEnd);
      pool.removeListener('release', onRelease);
    };
    client.once('end', onEnd);
    pool.on('release', onRelease);
  });
}
