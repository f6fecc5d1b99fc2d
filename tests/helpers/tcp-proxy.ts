import net from 'node:net';

export interface TcpProxy {
  port: number;
  url: string;
  /** Connections currently open through the proxy. */
  open(): number;
  close(): Promise<void>;
}

/**
 * A load balancer for tests: each new connection goes to the first target that accepts it, in
 * the order `targets()` gives. When a node goes down, clients that reconnect land on the next.
 */
export async function startTcpProxy(targets: () => number[]): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.pause();
    const tryTarget = (list: number[]) => {
      const port = list[0];
      if (port === undefined) {
        client.destroy();
        return;
      }
      const upstream = net.connect(port, '127.0.0.1');
      upstream.once('error', () => tryTarget(list.slice(1)));
      upstream.once('connect', () => {
        upstream.removeAllListeners('error');
        sockets.add(upstream);
        upstream.on('close', () => {
          sockets.delete(upstream);
          client.destroy();
        });
        upstream.on('error', () => client.destroy());
        client.on('error', () => upstream.destroy());
        client.on('close', () => upstream.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    tryTarget(targets());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    open: () => sockets.size,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
